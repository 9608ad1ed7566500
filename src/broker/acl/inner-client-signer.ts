// Kept for the broker's import path: the signer lives in src/remoting/acl (the proxy signs too).
export { innerClientSigner } from '../../remoting/acl/inner-client-signer.js';
