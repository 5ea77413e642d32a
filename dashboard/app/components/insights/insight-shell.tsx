import { Link } from "@remix-run/react";
import type { ReactNode } from "react";
import type { TimeRange } from "../../queries/range";
import { RangePicker } from "../range-picker";
import { Shell, type ShellViewer } from "../shell";

/** The frame of an insight's page: the app's shell, "Insights · <title>" and the range picker. */
export function InsightShell({ viewer, app, title, range, children }: { viewer: ShellViewer; app: { id: string; name: string }; title: string; range: TimeRange["key"]; children: ReactNode }) {
  return (
    <Shell viewer={viewer} app={app}>
      <div className="page-head">
        <h1>
          <Link to={`/apps/${app.id}/insights`}>Insights</Link> · {title}
        </h1>
        <RangePicker current={range} />
      </div>
      {children}
    </Shell>
  );
}
