import { json, redirect, type ActionFunctionArgs, type LoaderFunctionArgs, type MetaFunction } from "@remix-run/cloudflare";
import { Form, Link, useActionData, useLoaderData, useNavigation } from "@remix-run/react";
import { csrfForm } from "../auth/csrf.server";
import { getViewer, nextPath } from "../auth/guard.server";
import { issueSessionToken, sessionCookie } from "../auth/session.server";
import { checkPassword, clientIp } from "../auth/sign-in.server";
import { CsrfField } from "../components/csrf";
import { FormError } from "../components/form-error";
import { envOf, field } from "../context.server";
import { hasAnyUser } from "../db/accounts.server";
import { listMemberships } from "../db/members.server";

export const meta: MetaFunction = () => [{ title: "Sign in · edge-telemetry" }];

export async function loader({ request, context }: LoaderFunctionArgs) {
  const env = envOf(context);
  if (!(await hasAnyUser(env.db))) throw redirect("/signup");
  if (await getViewer(request, env)) throw redirect(nextPath(new URL(request.url).searchParams.get("next"), request));
  return json({ next: new URL(request.url).searchParams.get("next") ?? "" });
}

export async function action({ request, context }: ActionFunctionArgs) {
  const env = envOf(context);
  const form = await csrfForm(request, env);
  const next = nextPath(field(form, "next") || null, request);
  const email = field(form, "email").toLowerCase();
  const checked = await checkPassword(env.db, email, form.get("password"), clientIp(request));
  if ("error" in checked) return json({ error: checked.error }, { status: checked.status, headers: checked.status === 429 ? { "retry-after": "900" } : {} });
  const user = checked.user;
  // Without an organisation every page would send them back here.
  if ((await listMemberships(env.db, user.id)).length === 0) {
    return json({ error: "Your account no longer belongs to any organisation. Ask an owner or admin for a new invitation." }, { status: 403 });
  }
  const token = await issueSessionToken(env.sessionSecret, user.id, user.sessionVersion);
  return redirect(next, { headers: { "set-cookie": sessionCookie(request, token) } });
}

export default function Login() {
  const { next } = useLoaderData<typeof loader>();
  const result = useActionData<typeof action>();
  const busy = useNavigation().state !== "idle";
  return (
    <main className="centered">
      <Form method="post" className="card auth-card">
        <h1>Sign in</h1>
        <CsrfField />
        <input type="hidden" name="next" value={next} />
        <label>
          E-mail
          <input name="email" type="email" autoComplete="username" required autoFocus />
        </label>
        <label>
          Password
          <input name="password" type="password" autoComplete="current-password" required />
        </label>
        <FormError result={result} />
        <button type="submit" disabled={busy}>
          {busy ? "Signing in…" : "Sign in"}
        </button>
        <p className="muted">
          No account? Ask an owner or admin of your organisation for an invitation. <Link to="/">Home</Link>
        </p>
      </Form>
    </main>
  );
}
