import { json, redirect, type ActionFunctionArgs, type LoaderFunctionArgs, type MetaFunction } from "@remix-run/cloudflare";
import { Form, Link, useActionData, useLoaderData, useNavigation } from "@remix-run/react";
import { requireCsrf } from "../auth/csrf.server";
import { getViewer } from "../auth/guard.server";
import { DECOY_HASH, verifyPassword } from "../auth/password.server";
import { clearLoginFailures, loginBlocked, recordLoginFailure } from "../auth/rate-limit.server";
import { issueSessionToken, sessionCookie } from "../auth/session.server";
import { CsrfField } from "../components/csrf";
import { FormError } from "../components/form-error";
import { envOf, field } from "../context.server";
import { findUserByEmail, hasAnyUser } from "../db/accounts.server";

export const meta: MetaFunction = () => [{ title: "Sign in · edge-telemetry" }];

/** Only same-site paths: `next` must not send a signed-in user to another site. */
function safeNext(raw: string | null): string {
  return raw && raw.startsWith("/") && !raw.startsWith("//") && !raw.startsWith("/\\") ? raw : "/apps";
}

export async function loader({ request, context }: LoaderFunctionArgs) {
  const env = envOf(context);
  if (!(await hasAnyUser(env.db))) throw redirect("/signup");
  if (await getViewer(request, env)) throw redirect(safeNext(new URL(request.url).searchParams.get("next")));
  return json({ next: new URL(request.url).searchParams.get("next") ?? "" });
}

export async function action({ request, context }: ActionFunctionArgs) {
  const env = envOf(context);
  const form = await request.formData();
  requireCsrf(request, form);
  const email = field(form, "email").toLowerCase();
  const password = form.get("password");
  const ip = request.headers.get("cf-connecting-ip") ?? "local";
  if (!email || typeof password !== "string" || !password) return json({ error: "Enter your e-mail and password." }, { status: 400 });
  if (await loginBlocked(env.db, email, ip)) {
    return json({ error: "Too many failed sign-ins. Wait 15 minutes and try again." }, { status: 429, headers: { "retry-after": "900" } });
  }
  const user = await findUserByEmail(env.db, email);
  // Unknown e-mails cost the same hashing time as known ones.
  const ok = await verifyPassword(password, user?.passwordHash ?? DECOY_HASH);
  if (!user || !ok) {
    await recordLoginFailure(env.db, email, ip);
    return json({ error: "That e-mail and password do not match an account." }, { status: 401 });
  }
  await clearLoginFailures(env.db, email);
  const token = await issueSessionToken(env.sessionSecret, user.id, user.sessionVersion);
  return redirect(safeNext(field(form, "next") || null), { headers: { "set-cookie": sessionCookie(request, token) } });
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
