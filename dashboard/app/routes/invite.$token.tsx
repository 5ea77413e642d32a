import { json, redirect, type ActionFunctionArgs, type LoaderFunctionArgs, type MetaFunction } from "@remix-run/cloudflare";
import { Form, Link, useActionData, useLoaderData, useNavigation } from "@remix-run/react";
import { z } from "zod";
import { csrfForm } from "../auth/csrf.server";
import { currentOrgCookie, getSessionUser } from "../auth/guard.server";
import { inviteGuessesBlocked, recordInviteGuess } from "../auth/rate-limit.server";
import { issueSessionToken, sessionCookie } from "../auth/session.server";
import { checkPassword, clientIp } from "../auth/sign-in.server";
import { CsrfField } from "../components/csrf";
import { FormError } from "../components/form-error";
import { envOf, field, intentOf } from "../context.server";
import { findUserByEmail, type User } from "../db/accounts.server";
import { acceptInvitation, acceptWithNewAccount, findInvitation, type InvitationLookup } from "../db/invitations.server";
import type { DashboardEnv } from "../env.server";

// The link's token must not travel on to other sites in a Referer header.
export const meta: MetaFunction = () => [{ title: "Invitation · edge-telemetry" }, { name: "referrer", content: "no-referrer" }];

type Unusable = "unknown" | "used" | "revoked" | "expired" | "throttled";
type Lookup = InvitationLookup | { state: "throttled" };

const STATUS: Record<Unusable, number> = { unknown: 404, used: 410, revoked: 410, expired: 410, throttled: 429 };

/** Why a link cannot be used, in words for the person holding it. */
function explain(state: Unusable, orgName: string): string {
  switch (state) {
    case "unknown":
      return "This invitation link is not valid. Check that you copied all of it, or ask for a new one.";
    case "used":
      return `This invitation to ${orgName} has already been used. Invitations work once: if it was not you who used it, ask an owner or admin of ${orgName} for a new one.`;
    case "revoked":
      return `This invitation to ${orgName} was revoked. Ask an owner or admin of ${orgName} for a new one.`;
    case "expired":
      return `This invitation to ${orgName} has expired: invitations last 7 days. Ask an owner or admin of ${orgName} for a new one.`;
    case "throttled":
      return "Too many invalid invitation links were opened from your network. Wait 15 minutes and try again.";
  }
}

/** The invitation behind the token; unknown tokens count against the client's address. */
async function lookup(env: DashboardEnv, request: Request, token: string): Promise<Lookup> {
  const ip = clientIp(request);
  if (await inviteGuessesBlocked(env.db, ip)) return { state: "throttled" };
  const found = await findInvitation(env.db, token);
  if (found.state === "unknown") await recordInviteGuess(env.db, ip);
  return found;
}

const unusable = (found: Exclude<Lookup, { state: "pending" }>) => {
  const orgName = "orgName" in found ? found.orgName : "";
  return json({ state: found.state, message: explain(found.state, orgName) } as const, { status: STATUS[found.state] });
};

type Visitor = { kind: "invitee" } | { kind: "someone-else"; email: string } | { kind: "has-account" } | { kind: "new" };

const sameEmail = (a: string, b: string): boolean => a.toLowerCase() === b.toLowerCase();

/** Who opened the link, which decides the form: join, sign out first, sign in, or sign up. */
async function visitorOf(env: DashboardEnv, request: Request, email: string): Promise<Visitor> {
  const user = await getSessionUser(request, env);
  if (user) return sameEmail(user.email, email) ? { kind: "invitee" } : { kind: "someone-else", email: user.email };
  return (await findUserByEmail(env.db, email)) ? { kind: "has-account" } : { kind: "new" };
}

export async function loader({ request, params, context }: LoaderFunctionArgs) {
  const env = envOf(context);
  const found = await lookup(env, request, params.token ?? "");
  if (found.state !== "pending") return unusable(found);
  const { orgName, email, role, expiresAt } = found.invitation;
  const visitor = await visitorOf(env, request, email);
  return json({ state: "pending", orgName, email, role, expiresAt, visitor } as const);
}

const INTENTS = { join: "signed in as the invited address", signin: "with the invited account's password", create: "with a new account" } as const;

const NewAccount = z.object({
  name: z.string().trim().max(200),
  password: z.string().min(12, "Use at least 12 characters for the password.").max(1024),
});

/** Into the organisation just joined, signed in when `signIn`. */
async function joined(request: Request, env: DashboardEnv, user: User, orgId: string, signIn: boolean) {
  const headers = new Headers({ "set-cookie": currentOrgCookie(request, orgId) });
  if (signIn) headers.append("set-cookie", sessionCookie(request, await issueSessionToken(env.sessionSecret, user.id, user.sessionVersion)));
  return redirect("/apps", { headers });
}

export async function action({ request, params, context }: ActionFunctionArgs) {
  const env = envOf(context);
  const form = await csrfForm(request, env);
  const intent = intentOf(form, INTENTS);
  const found = await lookup(env, request, params.token ?? "");
  if (found.state !== "pending") return json({ error: explain(found.state, "orgName" in found ? found.orgName : "") }, { status: STATUS[found.state] });
  const invitation = found.invitation;
  const gone = () => json({ error: "This invitation was used or revoked a moment ago. Ask for a new one." }, { status: 410 });
  switch (intent) {
    case "join": {
      const user = await getSessionUser(request, env);
      if (!user) return json({ error: "You are no longer signed in. Reload the page to sign in." }, { status: 401 });
      if (!sameEmail(user.email, invitation.email)) {
        return json({ error: `This invitation is for ${invitation.email}, and you are signed in as ${user.email}.` }, { status: 403 });
      }
      return (await acceptInvitation(env.db, invitation.id, user.id)) ? joined(request, env, user, invitation.orgId, false) : gone();
    }
    case "signin": {
      const checked = await checkPassword(env.db, invitation.email, form.get("password"), clientIp(request));
      if ("error" in checked) return json({ error: checked.error }, { status: checked.status });
      return (await acceptInvitation(env.db, invitation.id, checked.user.id)) ? joined(request, env, checked.user, invitation.orgId, true) : gone();
    }
    case "create": {
      const parsed = NewAccount.safeParse({ name: field(form, "name"), password: form.get("password") });
      if (!parsed.success) return json({ error: parsed.error.issues.map((i) => i.message).join(" ") }, { status: 400 });
      const created = await acceptWithNewAccount(env.db, invitation, parsed.data);
      if (created === "email-taken") return json({ error: `There is already an account for ${invitation.email}: reload the page and sign in with it.` }, { status: 409 });
      if (created === "gone") return gone();
      return joined(request, env, created, invitation.orgId, true);
    }
  }
}

const aRole = (role: string): string => `${/^[aeiou]/.test(role) ? "an" : "a"} ${role}`;

export default function InvitePage() {
  const data = useLoaderData<typeof loader>();
  const result = useActionData<typeof action>();
  const busy = useNavigation().state !== "idle";
  if (data.state !== "pending") {
    return (
      <main className="centered">
        <div className="card auth-card error-card" role="alert">
          <h1>{data.state === "throttled" ? "Too many attempts" : "This invitation cannot be used"}</h1>
          <p>{data.message}</p>
          <p className="muted">
            Already a member? <Link to="/login">Sign in</Link>
          </p>
        </div>
      </main>
    );
  }
  const { orgName, email, role, expiresAt, visitor } = data;
  const intro = (
    <>
      <h1>Join {orgName}</h1>
      <p>
        You are invited to <strong>{orgName}</strong> as {aRole(role)}, with the address <strong>{email}</strong>.{" "}
        <span className="muted">The link works until {new Date(expiresAt).toISOString().slice(0, 10)}.</span>
      </p>
    </>
  );
  if (visitor.kind === "someone-else") {
    return (
      <main className="centered">
        <Form method="post" action="/logout" className="card auth-card">
          {intro}
          <p className="error" role="alert">
            You are signed in as {visitor.email}. This invitation is only for {email}: sign out, then open this link again.
          </p>
          <CsrfField />
          <button type="submit">Sign out</button>
        </Form>
      </main>
    );
  }
  return (
    <main className="centered">
      <Form method="post" className="card auth-card">
        {intro}
        <CsrfField />
        <input type="hidden" name="intent" value={visitor.kind === "invitee" ? "join" : visitor.kind === "has-account" ? "signin" : "create"} />
        {visitor.kind === "has-account" ? (
          <>
            <p className="muted">You already have an account with this address: sign in to join.</p>
            <input type="hidden" name="email" value={email} autoComplete="username" />
            <label>
              Password
              <input name="password" type="password" autoComplete="current-password" required autoFocus />
            </label>
          </>
        ) : null}
        {visitor.kind === "new" ? (
          <>
            <label>
              Your name
              <input name="name" autoComplete="name" maxLength={200} autoFocus />
            </label>
            <label>
              Password (12 characters or more)
              <input name="password" type="password" autoComplete="new-password" required minLength={12} />
            </label>
          </>
        ) : null}
        <FormError result={result} />
        <button type="submit" disabled={busy}>
          {visitor.kind === "invitee" ? `Join ${orgName}` : visitor.kind === "has-account" ? "Sign in and join" : "Create account and join"}
        </button>
      </Form>
    </main>
  );
}
