// Compiled by `npm run typecheck` only: fails when src/index.d.ts and the JavaScript it declares drift apart.
import * as declared from '../../src/index.js';
import * as client from '../../src/secure-hub-client.js';
import * as session from '../../src/auth-session.js';
import * as errors from '../../src/errors.js';
import * as contract from '../../src/contract.js';
import * as protocols from '../../src/protocols.js';
import * as ids from '../../src/message-ids.js';

const implementations: { [K in keyof typeof declared]: unknown } = {
  SecureHubClient: client.SecureHubClient satisfies typeof declared.SecureHubClient,
  ConnectionStates: client.ConnectionStates satisfies typeof declared.ConnectionStates,
  DefaultReauthenticateBefore: client.DefaultReauthenticateBefore,
  DefaultReconnectInitialDelay: client.DefaultReconnectInitialDelay,
  DefaultReconnectMaxDelay: client.DefaultReconnectMaxDelay,
  AuthSession: session.AuthSession satisfies typeof declared.AuthSession,
  HubProtocols: protocols.HubProtocols satisfies typeof declared.HubProtocols,
  compareMessageIds: ids.compareMessageIds satisfies typeof declared.compareMessageIds,
  isMessageId: ids.isMessageId satisfies typeof declared.isMessageId,
  HubClosedError: errors.HubClosedError satisfies typeof declared.HubClosedError,
  HubInvocationError: errors.HubInvocationError,
  AuthRequestError: errors.AuthRequestError satisfies typeof declared.AuthRequestError,
  ChatHubMethods: contract.ChatHubMethods satisfies typeof declared.ChatHubMethods,
  ChatClientMethods: contract.ChatClientMethods satisfies typeof declared.ChatClientMethods,
  SecureEndpoints: contract.SecureEndpoints satisfies typeof declared.SecureEndpoints,
  CloseReasons: contract.CloseReasons satisfies typeof declared.CloseReasons,
  HubErrors: contract.HubErrors satisfies typeof declared.HubErrors,
  isTerminalCloseReason: contract.isTerminalCloseReason satisfies typeof declared.isTerminalCloseReason,
  parseCloseReason: contract.parseCloseReason,
  parseHubError: contract.parseHubError,
};

export default implementations;
