/** A form's error line, announced to screen readers; nothing when there is no error. */
export function FormError({ result }: { result: unknown }) {
  const error = typeof result === "object" && result !== null && "error" in result && typeof result.error === "string" ? result.error : null;
  return error ? (
    <p className="error" role="alert">
      {error}
    </p>
  ) : null;
}
