import type { Core } from "../../core/client";
import type { Elem, Win } from "./dom";

/**
 * Records clicks and taps on elements the app marks with `data-track="Event Name"` as track
 * events; `data-track-*` attributes become properties. Nothing else about the element is read,
 * so no text a user typed or sees ends up in an event.
 * `<button data-track="Signup Clicked" data-track-plan="pro">` → `track("Signup Clicked", {plan: "pro", element: "button"})`
 */
export function captureInteractions(c: Core, w: Win): void {
  w.document.addEventListener(
    "click",
    (e: { target?: Elem | null }) => {
      const el = e.target?.closest?.("[data-track]");
      if (!el || !c.allows("interactions")) return;
      const props: Record<string, string> = { element: el.tagName.toLowerCase() };
      for (const a of Array.from(el.attributes)) if (a.name.startsWith("data-track-")) props[a.name.slice(11)] = a.value;
      c.track(el.getAttribute("data-track") || "Interaction", props);
    },
    { capture: true, passive: true },
  );
}
