// Its own file (own process): no exporter is attached when the first spans start.
import assert from 'node:assert/strict';
import { afterAll, describe, it } from '@jest/globals';
import { trace } from '@opentelemetry/api';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base';
import { currentTraceparent, startTelemetry, withSpan } from '../src/telemetry.js';

describe('tracing with no exporter attached (no OTLP endpoint, no test exporter)', () => {
  const telemetry = startTelemetry({ service: 'identity' });
  afterAll(() => telemetry.shutdown());

  it('records no span, yet every operation still has a trace id for logs and events', async () => {
    let recording = true;
    let traceparent: string | undefined;
    await withSpan('log in', {}, async () => {
      recording = trace.getActiveSpan()!.isRecording();
      traceparent = currentTraceparent().traceparent;
    });
    assert.equal(recording, false, 'spans nobody receives are not recorded');
    assert.match(traceparent ?? '', /^00-[0-9a-f]{32}-[0-9a-f]{16}-00$/, 'a trace id, flagged not sampled');
  });

  it('records spans again as soon as an exporter is attached', async () => {
    const exporter = new InMemorySpanExporter();
    const exporting = startTelemetry({ service: 'identity', exporter });
    try {
      await withSpan('log in', {}, async () => undefined);
      assert.deepEqual(exporter.getFinishedSpans().map((s) => s.name), ['log in']);
    } finally {
      await exporting.shutdown();
    }
  });
});
