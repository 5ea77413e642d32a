import { useRouteLoaderData } from "@remix-run/react";
import type { loader as rootLoader } from "../root";

/** The hidden field every form carries; actions check it with csrfForm. */
export function CsrfField() {
  const data = useRouteLoaderData<typeof rootLoader>("root");
  return <input type="hidden" name="csrf" value={data?.csrf ?? ""} />;
}
