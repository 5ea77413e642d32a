import { Form, Link, NavLink } from "@remix-run/react";
import type { ReactNode } from "react";
import { can, isRole } from "../auth/permissions";
import { CsrfField } from "./csrf";
import { OrgSwitcher } from "./org-switcher";

export interface ShellViewer {
  email: string;
  orgId: string;
  orgName: string;
  role: string;
  orgs: ReadonlyArray<{ id: string; name: string }>;
}

/** The frame of every signed-in page: organisation (and switcher), app tabs, members, who is signed in, sign-out. */
export function Shell({ viewer, app, children }: { viewer: ShellViewer; app?: { id: string; name: string }; children: ReactNode }) {
  return (
    <div className="shell">
      <header className="topbar">
        <Link to="/apps" className="brand">
          edge-telemetry
        </Link>
        <OrgSwitcher orgId={viewer.orgId} orgName={viewer.orgName} orgs={viewer.orgs} />
        {app ? (
          <nav className="tabs app-tabs" aria-label="App views">
            <span className="app-name">{app.name}</span>
            <NavLink to={`/apps/${app.id}`} end>
              Overview
            </NavLink>
            <NavLink to={`/apps/${app.id}/insights`}>Insights</NavLink>
            <NavLink to={`/apps/${app.id}/attribution`}>Attribution</NavLink>
            <NavLink to={`/apps/${app.id}/events`}>Events</NavLink>
            <NavLink to={`/apps/${app.id}/pipeline`}>Pipeline</NavLink>
            <NavLink to={`/apps/${app.id}/users`}>Users</NavLink>
            <NavLink to={`/apps/${app.id}/sessions`}>Sessions</NavLink>
            <NavLink to={`/apps/${app.id}/crashes`}>Crashes</NavLink>
            <NavLink to={`/apps/${app.id}/performance`}>Performance</NavLink>
            <NavLink to={`/apps/${app.id}/network`}>Network</NavLink>
            <NavLink to={`/apps/${app.id}/releases`}>Releases</NavLink>
            <NavLink to={`/apps/${app.id}/alerts`}>Alerts</NavLink>
            <NavLink to={`/apps/${app.id}/exports`}>Exports</NavLink>
            <NavLink to={`/apps/${app.id}/flags`}>Flags</NavLink>
            <NavLink to={`/apps/${app.id}/config`}>Config</NavLink>
            <NavLink to={`/apps/${app.id}/settings`}>Settings &amp; keys</NavLink>
            {isRole(viewer.role) && can(viewer.role, "privacy:manage") ? <NavLink to={`/apps/${app.id}/privacy`}>Privacy</NavLink> : null}
          </nav>
        ) : null}
        <span className="spacer" />
        <nav className="tabs" aria-label="Organisation">
          <NavLink to="/dashboards">Dashboards</NavLink>
          <NavLink to="/org/members">Members</NavLink>
          {isRole(viewer.role) && can(viewer.role, "alert:update") ? <NavLink to="/org/webhooks">Webhooks</NavLink> : null}
          <NavLink to="/org/api-clients">API clients</NavLink>
          <NavLink to="/org/settings">Organisation</NavLink>
        </nav>
        <span className="who">
          {viewer.email} <span className="role">{viewer.role}</span>
        </span>
        <Form method="post" action="/logout">
          <CsrfField />
          <button type="submit" className="link-button">
            Sign out
          </button>
        </Form>
      </header>
      <main className="content">{children}</main>
    </div>
  );
}
