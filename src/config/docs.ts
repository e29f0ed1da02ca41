import { CLIENT_FIELDS } from './client.js';
import { envName, flagName, type FieldTable } from './fields.js';
import { SERVER_FIELDS } from './server.js';

function table(fields: FieldTable): string {
  const rows = ['| key | default | flag / environment | meaning |', '|---|---|---|---|'];
  for (const [key, f] of Object.entries(fields)) {
    const def = key === 'tiers' ? 'seed table (see below)' : `\`${JSON.stringify(f.default)}\``;
    rows.push(`| \`${key}\` | ${def} | \`${flagName(key)}\`, \`${envName(key)}\` | ${f.doc.replace(/\|/g, '\\|')} |`);
  }
  return rows.join('\n');
}

/** docs/configuration.md, generated from the config tables so that the reference never drifts from the code. */
export function configurationMarkdown(): string {
  return `# Configuration reference

<!-- Generated from src/config/server.ts and src/config/client.ts by \`npm run docs:config\`. Do not edit by hand. -->

Every key can be set in the YAML file, as an environment variable, or as a flag; later sources win
(YAML → environment → flags). Lists are given in the environment and on the command line as
comma-separated values or a JSON array. Unknown keys are reported with the closest known key and
ignored; an invalid value stops startup with exit code 2 and a message naming the file (as given) and the key, e.g.

    error: server.yml: rate_limit_per_minute: expected a positive integer, got "abc"

\`vantage config check FILE [--client]\` validates a file without starting anything; a client.yml given without
\`--client\` (or a server.yml given with it, or either given to the wrong command) is recognised by its keys and
refused with a message saying which kind of file it is;
\`vantage config defaults server|client\` prints every key with its default as YAML.

Keys marked "Vantage:" are additions to the Opsen seed; all seed keys keep their names and defaults,
except \`database\`, which defaults to \`./data/vantage.db\` (the seed's \`/opt/opsen/opsen.db\` needs root).
The seed's Go-style single-dash flags (\`-config\`, \`-port 9000\`, \`-stale 10\`, \`-server URL\`, \`-window 20\`) are accepted.

## server.yml (\`vantage server\`)

${table(SERVER_FIELDS)}

Default tiers (used when \`tiers\` is empty):

| tier | vcpu | memory_gb | storage_gb | gpu | gpu_memory_gb |
|---|---|---|---|---|---|
| small | 1 | 1 | 5 | 0 | 0 |
| medium | 2 | 4 | 20 | 0 | 0 |
| large | 4 | 8 | 30 | 0 | 0 |
| gpu-inference | 8 | 32 | 100 | 1 | 16 |
| gpu-training | 16 | 64 | 500 | 2 | 48 |

## client.yml (\`vantage agent\`)

${table(CLIENT_FIELDS)}
`;
}
