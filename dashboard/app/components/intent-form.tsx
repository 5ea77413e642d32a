import { Form } from "@remix-run/react";
import type { FormEvent, ReactNode } from "react";
import { CsrfField } from "./csrf";

interface IntentFormProps {
  intent: string;
  /** The button's text. */
  label: string;
  /** The form's name for screen readers, where several forms share a label. */
  title?: string;
  /** A question the browser asks before posting, for what cannot be undone. */
  confirm?: string;
  danger?: boolean;
  children?: ReactNode;
}

/** A form that posts one `intent` to the page's action, with the CSRF field. */
export function IntentForm({ intent, label, title, confirm, danger = false, children }: IntentFormProps) {
  const ask = confirm
    ? (e: FormEvent<HTMLFormElement>) => {
        if (!window.confirm(confirm)) e.preventDefault();
      }
    : undefined;
  return (
    <Form method="post" className="inline-form" aria-label={title ?? label} onSubmit={ask}>
      <CsrfField />
      <input type="hidden" name="intent" value={intent} />
      {children}
      <button type="submit" className={danger ? "danger" : ""}>
        {label}
      </button>
    </Form>
  );
}
