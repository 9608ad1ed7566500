// The properties the broker writes on every stored message: CLUSTER, then MSG_REGION and TRACE_ON
// (as Java's broker does; a 4.x consumer's trace hook drops records of messages without a region).
import { MessageConst } from '../../common/message-const.js';
import { getPropertyFromString } from '../../common/message-properties.js';
import { setPropertyInString } from '../../common/property-edit.js';

const SEP = '\u0002';

/** A broker's stamp values, with the three entries joined once (they are the same for every message). */
export interface SendStamp {
  cluster: string;
  regionId: string;
  traceOn: string;
  /** MSG_REGION and TRACE_ON entries, each ending with \u0002. */
  traceEntries: string;
  /** CLUSTER's entry, then traceEntries. */
  entries: string;
}

export function sendStamp(cluster: string, regionId: string, traceOn: string): SendStamp {
  const traceEntries = `${MessageConst.PROPERTY_MSG_REGION}\u0001${regionId}${SEP}${MessageConst.PROPERTY_TRACE_SWITCH}\u0001${traceOn}${SEP}`;
  return { cluster, regionId, traceOn, traceEntries, entries: `${MessageConst.PROPERTY_CLUSTER}\u0001${cluster}${SEP}${traceEntries}` };
}

/**
 * The properties with CLUSTER, MSG_REGION and TRACE_ON set: the same string as setting CLUSTER
 * (unless it already holds this cluster), then MSG_REGION and TRACE_ON, one edit each. A client's
 * message carries none of the three, and then one concatenation does it (the edits built the
 * string twice per message and searched it five times, issue 17).
 */
export function stampSendProperties(props: string, s: SendStamp): string {
  const cluster = getPropertyFromString(props, MessageConst.PROPERTY_CLUSTER);
  const region = getPropertyFromString(props, MessageConst.PROPERTY_MSG_REGION);
  const on = getPropertyFromString(props, MessageConst.PROPERTY_TRACE_SWITCH);
  if (cluster === undefined && region === undefined && on === undefined) {
    // A last entry without its \u0002 (the string is the client's) gets one, as setPropertyInString does.
    return props.length === 0 || props.endsWith(SEP) ? props + s.entries : props + SEP + s.entries;
  }
  return stampTraceEdits(stampClusterEdit(props, cluster, s.cluster), s);
}

/** A batch item's: CLUSTER is set even when it holds this cluster (which moves it last), then the trace entries. */
export function stampBatchProperties(props: string, s: SendStamp): string {
  if (getPropertyFromString(props, MessageConst.PROPERTY_CLUSTER) === undefined) return stampSendProperties(props, s);
  return stampTraceEdits(setPropertyInString(props, MessageConst.PROPERTY_CLUSTER, s.cluster), s);
}

function stampClusterEdit(props: string, current: string | undefined, cluster: string): string {
  return current === cluster ? props : setPropertyInString(props, MessageConst.PROPERTY_CLUSTER, cluster);
}

function stampTraceEdits(props: string, s: SendStamp): string {
  const region = getPropertyFromString(props, MessageConst.PROPERTY_MSG_REGION);
  const on = getPropertyFromString(props, MessageConst.PROPERTY_TRACE_SWITCH);
  if (region === undefined && on === undefined) return props + s.traceEntries;
  if (region !== s.regionId) props = setPropertyInString(props, MessageConst.PROPERTY_MSG_REGION, s.regionId);
  if (on !== s.traceOn) props = setPropertyInString(props, MessageConst.PROPERTY_TRACE_SWITCH, s.traceOn);
  return props;
}
