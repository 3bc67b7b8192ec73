import { catalogue } from './catalogue.js';
import type { ServiceName } from './envelope.js';

/**
 * The "Events" section of a service's README, from the catalogue (so that it cannot drift): what
 * the service publishes, and what it consumes with who publishes that. `npm run docs` writes it
 * between the README's `<!-- events:begin -->` and `<!-- events:end -->` markers; a test fails
 * when a README's block differs.
 */
export function serviceEventsMarkdown(service: ServiceName): string {
  const all = Object.values(catalogue);
  const out = all.filter((d) => (d.producers as readonly string[]).includes(service));
  const inn = all.filter((d) => (d.consumers as readonly string[]).includes(service));
  const line = (type: string, summary: string, extra: string) => `| \`${type}\` | ${summary} | ${extra} |`;
  return [
    `Publishes (${out.length}):`,
    '',
    '| type | what happened | consumed by |',
    '|---|---|---|',
    ...out.map((d) => line(d.type, d.summary, d.consumers.join(', ') || '— (for subscribers outside Roster)')),
    '',
    `Consumes (${inn.length}):`,
    '',
    '| type | what happened | published by |',
    '|---|---|---|',
    ...inn.map((d) => line(d.type, d.summary, d.producers.join(', '))),
  ].join('\n');
}

export const EVENTS_BEGIN = '<!-- events:begin (generated from packages/contracts/src/catalogue.ts by `npm run docs`) -->';
export const EVENTS_END = '<!-- events:end -->';

/** `readme` with its events block replaced by today's. */
export function withEventsBlock(readme: string, service: ServiceName): string {
  const begin = readme.indexOf(EVENTS_BEGIN);
  const end = readme.indexOf(EVENTS_END);
  if (begin < 0 || end < begin) throw new Error(`services/${service}/README.md has no ${EVENTS_BEGIN} … ${EVENTS_END} block`);
  return `${readme.slice(0, begin + EVENTS_BEGIN.length)}\n${serviceEventsMarkdown(service)}\n${readme.slice(end)}`;
}
