// Package entry: `import { Scene, ... } from "@showrunner/guest"` resolves here.
export * from "./assembly/index";
