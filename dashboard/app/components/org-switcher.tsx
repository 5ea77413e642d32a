import { Form, Link } from "@remix-run/react";
import { CsrfField } from "./csrf";

const NewOrgLink = () => (
  <Link to="/org/new" className="link-button">
    New organisation
  </Link>
);

/**
 * The current organisation's name; with several, a picker that switches on change (or with its
 * button when scripts are off) through /org/switch. Either way, a link to create another.
 */
export function OrgSwitcher({ orgId, orgName, orgs }: { orgId: string; orgName: string; orgs: ReadonlyArray<{ id: string; name: string }> }) {
  if (orgs.length < 2) {
    return (
      <span className="org-switch">
        <span className="org">{orgName}</span>
        <NewOrgLink />
      </span>
    );
  }
  return (
    <Form method="post" action="/org/switch" className="org-switch" aria-label="Switch organisation">
      <CsrfField />
      <label>
        <span className="sr-only">Organisation</span>
        <select name="org" defaultValue={orgId} onChange={(e) => e.currentTarget.form?.requestSubmit()}>
          {orgs.map((o) => (
            <option key={o.id} value={o.id}>
              {o.name}
            </option>
          ))}
        </select>
      </label>
      <button type="submit" className="link-button">
        Switch
      </button>
      <NewOrgLink />
    </Form>
  );
}
