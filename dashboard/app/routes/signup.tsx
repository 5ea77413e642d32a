import { json, redirect, type ActionFunctionArgs, type LoaderFunctionArgs, type MetaFunction } from "@remix-run/cloudflare";
import { Form, useActionData, useLoaderData } from "@remix-run/react";
import { z } from "zod";
import { csrfForm } from "../auth/csrf.server";
import { constantTimeEqual } from "../auth/password.server";
import { issueSessionToken, sessionCookie } from "../auth/session.server";
import { CsrfField } from "../components/csrf";
import { FormError } from "../components/form-error";
import { envOf, field } from "../context.server";
import { createFirstOwner, hasAnyUser } from "../db/accounts.server";
import type { DashboardEnv } from "../env.server";

export const meta: MetaFunction = () => [{ title: "Create the first account · edge-telemetry" }];

const SignUp = z.object({
  email: z.email("Enter a valid e-mail address.").max(254),
  name: z.string().trim().max(200),
  password: z.string().min(12, "Use at least 12 characters for the password.").max(1024),
  orgName: z.string().trim().min(1, "Name your organisation.").max(200),
});

/**
 * Who may create the first account: anyone on a developer's machine; once deployed, only whoever
 * holds the SETUP_TOKEN secret, so the dashboard does not belong to the first visitor.
 */
type Setup = "open" | "token" | "closed";
const setupOf = (env: DashboardEnv): Setup => (env.development ? "open" : env.setupToken ? "token" : "closed");

function setupRefusal(env: DashboardEnv, given: string): string | null {
  const setup = setupOf(env);
  if (setup === "open") return null;
  if (setup === "closed") return "Sign-up is closed: set a SETUP_TOKEN secret on the dashboard (wrangler pages secret put SETUP_TOKEN), then enter it here.";
  const enc = new TextEncoder();
  return constantTimeEqual(enc.encode(given), enc.encode(env.setupToken ?? "")) ? null : "That setup token is not the one set for this dashboard.";
}

/** Sign-up exists only until the first owner has an account; everyone else is invited. */
export async function loader({ context }: LoaderFunctionArgs) {
  const env = envOf(context);
  if (await hasAnyUser(env.db)) throw redirect("/login");
  return json({ setup: setupOf(env) });
}

export async function action({ request, context }: ActionFunctionArgs) {
  const env = envOf(context);
  const form = await csrfForm(request, env);
  const refusal = setupRefusal(env, field(form, "setupToken"));
  if (refusal) return json({ error: refusal }, { status: 403 });
  const parsed = SignUp.safeParse({ email: field(form, "email").toLowerCase(), name: field(form, "name"), password: form.get("password"), orgName: field(form, "orgName") });
  if (!parsed.success) return json({ error: parsed.error.issues.map((i) => i.message).join(" ") }, { status: 400 });
  const user = await createFirstOwner(env.db, parsed.data);
  if (!user) throw redirect("/login");
  const token = await issueSessionToken(env.sessionSecret, user.id, user.sessionVersion);
  return redirect("/apps", { headers: { "set-cookie": sessionCookie(request, token) } });
}

export default function Signup() {
  const { setup } = useLoaderData<typeof loader>();
  const result = useActionData<typeof action>();
  return (
    <main className="centered">
      <Form method="post" className="card auth-card">
        <h1>Create the first account</h1>
        <p className="muted">You become the owner of a new organisation, and of the apps already set up here.</p>
        <CsrfField />
        {setup === "closed" ? (
          <p className="error" role="alert">
            Sign-up is closed until a setup token is set: <code>wrangler pages secret put SETUP_TOKEN</code>.
          </p>
        ) : null}
        {setup === "open" ? null : (
          <label>
            Setup token (the SETUP_TOKEN secret)
            <input name="setupToken" type="password" autoComplete="off" required />
          </label>
        )}
        <label>
          Organisation
          <input name="orgName" required maxLength={200} />
        </label>
        <label>
          Your name
          <input name="name" autoComplete="name" maxLength={200} />
        </label>
        <label>
          E-mail
          <input name="email" type="email" autoComplete="username" required />
        </label>
        <label>
          Password (12 characters or more)
          <input name="password" type="password" autoComplete="new-password" required minLength={12} />
        </label>
        <FormError result={result} />
        <button type="submit">Create account</button>
      </Form>
    </main>
  );
}
