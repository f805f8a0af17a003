#!/usr/bin/env node
// The CLI is TypeScript; tsx loads it without a build step.
import { register } from 'tsx/esm/api';

// The pinned AWS SDK warns on every start that its future releases need Node 22; the CLI
// runs the pinned release, so the warning says nothing about this run. Set the variable
// to "false" to see it.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

register();
await import('../cli/main.ts');
