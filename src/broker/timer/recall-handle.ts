// The recall handle is a wire format (clients hold it), so it is defined with the protocol.
export { decodeRecallHandle, encodeRecallHandle, type RecallHandle } from '../../remoting/protocol/recall.js';
