// signalr-secure-client: the browser and Node client of the SignalRSecure chat hub.
export { SecureHubClient, ConnectionStates, DefaultReauthenticateBefore, DefaultReconnectInitialDelay, DefaultReconnectMaxDelay } from './secure-hub-client.js';
export { AuthSession } from './auth-session.js';
export { HubProtocols } from './protocols.js';
export { compareMessageIds, isMessageId } from './message-ids.js';
export { HubClosedError, HubInvocationError, AuthRequestError } from './errors.js';
export {
  ChatHubMethods,
  ChatClientMethods,
  SecureEndpoints,
  CloseReasons,
  HubErrors,
  isTerminalCloseReason,
  parseCloseReason,
  parseHubError,
} from './contract.js';
