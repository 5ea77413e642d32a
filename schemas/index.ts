export * from "./errors";
export * from "./limits";
export * from "./events";
export * from "./batch";
export * from "./rows";
export * from "./config";
export * from "./redaction";
export * from "./admin";
