export type ActionResult = { ok: string } | { error: string };

/** What the page's last action did: its error, or its confirmation and a secret shown this once. */
export function ActionNotice({ result, secret }: { result: ActionResult | undefined; secret?: string | undefined }) {
  if (!result) return null;
  if ("error" in result) {
    return (
      <p className="card error" role="alert">
        {result.error}
      </p>
    );
  }
  return (
    <div className="card notice" role="status">
      <p>{result.ok}</p>
      {secret ? <code className="new-key">{secret}</code> : null}
    </div>
  );
}
