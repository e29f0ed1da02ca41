import { writeFileSync } from 'node:fs';
import { configurationMarkdown } from '../src/config/docs.js';

writeFileSync(new URL('../docs/configuration.md', import.meta.url), configurationMarkdown());
console.log('wrote docs/configuration.md');
