import { frameLabel, splitStack, type Frame } from "../queries/crash-detail";

function FrameLine({ frame }: { frame: Frame }) {
  return (
    <li className={frame.inApp ? "frame in-app" : "frame"}>
      <code>{frameLabel(frame)}</code>
      {frame.minified ? (
        <details className="small">
          <summary className="muted">source-mapped; minified frame</summary>
          <code>{frameLabel(frame.minified)}</code>
        </details>
      ) : null}
    </li>
  );
}

/**
 * A crash's stack, innermost frame first: the app's own frames, then the others (libraries,
 * the runtime) folded away. Source-mapped frames show the original names, the minified frame
 * a click away.
 */
export function StackTrace({ frames }: { frames: readonly Frame[] }) {
  if (frames.length === 0) return <p className="muted">This crash came without stack frames.</p>;
  const { shown, folded } = splitStack(frames);
  return (
    <div className="stack-trace">
      <ol aria-label="In-app frames" style={{ paddingLeft: "1.2rem", margin: ".25rem 0" }}>
        {shown.map((f, i) => (
          <FrameLine key={`${i}-${f.function}-${f.file}`} frame={f} />
        ))}
      </ol>
      {folded.length > 0 ? (
        <details>
          <summary className="muted small">
            {folded.length} other frame{folded.length === 1 ? "" : "s"} (libraries and runtime)
          </summary>
          <ol aria-label="Other frames" style={{ paddingLeft: "1.2rem", margin: ".25rem 0" }}>
            {folded.map((f, i) => (
              <FrameLine key={`${i}-${f.function}-${f.file}`} frame={f} />
            ))}
          </ol>
        </details>
      ) : null}
    </div>
  );
}
