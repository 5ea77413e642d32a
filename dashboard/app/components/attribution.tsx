import { ATTRIBUTION_MODELS, MODEL_NAMES, type AttributionModel } from "../../../schemas";

/** A channel's head cells and one per model, as both attribution tables start. */
export function ChannelHeads() {
  return (
    <>
      <th>Source</th>
      <th>Medium</th>
      <th>Campaign</th>
      <th>Content</th>
      {ATTRIBUTION_MODELS.map((m) => (
        <th key={m} className="num">
          {MODEL_NAMES[m]}
        </th>
      ))}
    </>
  );
}

/** A channel's cells and a value per model, `–` for an empty field. */
export function ChannelCells({ channel, value }: { channel: { source: string; medium: string; campaign: string; content: string }; value: (m: AttributionModel) => string }) {
  return (
    <>
      <td>{channel.source || "–"}</td>
      <td>{channel.medium || "–"}</td>
      <td>{channel.campaign || "–"}</td>
      <td>{channel.content || "–"}</td>
      {ATTRIBUTION_MODELS.map((m) => (
        <td key={m} className="num">
          {value(m)}
        </td>
      ))}
    </>
  );
}

/** An amount of money with two decimals and its currency when known: `12,345.60 USD`. */
export const money = (v: number, currency = ""): string => `${v.toLocaleString("en", { minimumFractionDigits: 2, maximumFractionDigits: 2 })}${currency ? ` ${currency}` : ""}`;
