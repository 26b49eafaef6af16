// Everything NetFlow v9 and IPFIX decoding remembers between datagrams, in one place so the
// runtime can persist and restore it as a unit.

import { ExporterOptions } from './exporter-options';
import { PendingQueue, DEFAULT_PENDING_LIMITS, type PendingLimits } from './pending-queue';
import { DomainSequenceTracker, SequenceTracker } from './sequence-tracker';
import { TemplateCache, DEFAULT_TEMPLATE_LIMITS, type TemplateLimits } from './template-cache';
import type { IeRegistry } from './information-elements';

export interface TemplateStateOptions {
  registry: IeRegistry;
  templateLimits?: Partial<TemplateLimits>;
  pendingLimits?: Partial<PendingLimits>;
  /** Keep fields no mapping claims as extra_fields (default true). */
  keepUnmapped?: boolean;
}

export class TemplateState {
  readonly templates: TemplateCache;
  readonly options = new ExporterOptions();
  readonly pending: PendingQueue;
  /** v5 and sFlow streams (keys built by those decoders). */
  readonly seq = new SequenceTracker();
  /** NetFlow v9 (export packets per source id) and IPFIX (data records per domain). */
  readonly seqV9 = new DomainSequenceTracker();
  readonly seqIpfix = new DomainSequenceTracker();

  constructor(o: TemplateStateOptions) {
    this.templates = new TemplateCache(
      { ...DEFAULT_TEMPLATE_LIMITS, ...o.templateLimits },
      { registry: o.registry, keepUnmapped: o.keepUnmapped ?? true },
    );
    this.pending = new PendingQueue({ ...DEFAULT_PENDING_LIMITS, ...o.pendingLimits });
  }
}
