// The roles and permissions are shared with the Worker's API (an API client's scopes are these
// permissions): schemas/permissions.ts decides.
export * from "../../../schemas/permissions";
