/** A failed read shown in place of the view, with the rest of the page intact. */
export function ErrorCard({ title, message }: { title: string; message: string | null }) {
  return (
    <div className="card error-card" role="alert">
      <h2>{title}</h2>
      <p>{message}</p>
    </div>
  );
}
