import { redirect, type ActionFunctionArgs } from "@remix-run/cloudflare";
import { csrfForm } from "../auth/csrf.server";
import { getViewer } from "../auth/guard.server";
import { clearSessionCookie } from "../auth/session.server";
import { envOf } from "../context.server";
import { bumpSessionVersion } from "../db/accounts.server";

/** Signing out voids every session of the user, not just this cookie. */
export async function action({ request, context }: ActionFunctionArgs) {
  const env = envOf(context);
  await csrfForm(request, env);
  const viewer = await getViewer(request, env);
  if (viewer) await bumpSessionVersion(env.db, viewer.userId);
  return redirect("/login", { headers: { "set-cookie": clearSessionCookie(request) } });
}

export const loader = () => redirect("/apps");
