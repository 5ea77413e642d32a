/** One headline figure of a view. */
export function Stat({ label, value, live = false }: { label: string; value: string; live?: boolean }) {
  return (
    <div className={`card stat${live ? " live" : ""}`}>
      <span className="stat-label">{label}</span>
      <span className="stat-value">{value}</span>
    </div>
  );
}
