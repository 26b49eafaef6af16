// The .proto files are the schema of record; protobufjs loads them at start so every
// reflection-based use (decoding, tests, converters) follows the files, not a copy in code.

import * as protobuf from 'protobufjs';
import Long from 'long';
import { packagePath } from '../util/paths';

// protobufjs decodes uint64 to Long only when it can find Long; make that explicit.
protobuf.util.Long = Long;
protobuf.configure();

let root: protobuf.Root | undefined;

export function schemaRoot(): protobuf.Root {
  if (!root) {
    root = new protobuf.Root();
    // keepCase: the field names of the .proto (snake_case) are our JSON/CSV names.
    root.loadSync([packagePath('codecs', 'flow.proto'), packagePath('codecs', 'counters.proto')], { keepCase: true });
    root.resolveAll();
  }
  return root;
}

export function flowMessageType(): protobuf.Type {
  return schemaRoot().lookupType('flowpb.FlowMessage');
}

export function countersMessageType(): protobuf.Type {
  return schemaRoot().lookupType('flowgate.InterfaceCounters');
}
