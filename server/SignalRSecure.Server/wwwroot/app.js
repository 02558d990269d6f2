// The chat demo page. All authentication goes through signalr-secure-client (AuthSession and SecureHubClient);
// this file only renders. Everything a user sent is put in the page with textContent, never as HTML.
// esbuild bundles it with the client into dist/app.js (client-js/scripts/build.mjs), which index.html loads.
import {
  AuthRequestError,
  AuthSession,
  CloseReasons,
  ConnectionStates,
  HubClosedError,
  HubErrors,
  HubInvocationError,
  SecureEndpoints,
  SecureHubClient,
  compareMessageIds,
  isMessageId,
} from 'signalr-secure-client';

// Group names cannot be empty, so the broadcast channel's key never collides with a group.
const everyone = '';

// How many of a channel's last messages the page shows when it opens one: the server's default page size.
const historyPageSize = 50;

/** @type {Map<string, string>} */
const hubErrorText = new Map([
  [HubErrors.Forbidden, 'You are not allowed in that group.'],
  [HubErrors.NotAMember, 'Join the group before sending to it.'],
  [HubErrors.InvalidGroup, 'Group names are 1 to 64 letters, digits, dots, dashes or underscores.'],
  [HubErrors.MessageTooLong, 'That message is too long.'],
  [HubErrors.RateLimited, 'Slow down: you are sending too fast. Try again in a moment.'],
  [HubErrors.TooManyGroups, 'You have joined as many groups as you may.'],
  [HubErrors.InvalidMessage, 'Type something first.'],
]);

/** @type {Map<string, string>} */
const closeReasonText = new Map([
  [CloseReasons.LoggedOut, 'This account signed out, in this window or another one.'],
  [CloseReasons.Revoked, 'Access for this account was revoked.'],
  [CloseReasons.SessionExpired, 'The session expired.'],
  [CloseReasons.RateLimited, 'The server disconnected this window for sending too fast.'],
  [CloseReasons.AuthenticationFailed, 'The server refused the sign-in ticket.'],
  [CloseReasons.AuthenticationTimeout, 'The connection did not authenticate in time.'],
  [CloseReasons.AuthenticationRequired, 'The connection sent a message before authenticating.'],
]);

/**
 * @param {string} id
 * @returns {any}
 */
const byId = (id) => document.getElementById(id);

const ui = {
  status: byId('status'),
  account: byId('account'),
  accountState: byId('account-state'),
  accountName: byId('account-name'),
  signOut: byId('sign-out'),
  alert: byId('alert'),
  alertText: byId('alert-text'),
  alertDismiss: byId('alert-dismiss'),
  signIn: byId('sign-in'),
  signInForm: byId('sign-in-form'),
  signInNotice: byId('sign-in-notice'),
  signInError: byId('sign-in-error'),
  signInButton: byId('sign-in-button'),
  username: byId('username'),
  password: byId('password'),
  chat: byId('chat'),
  channels: byId('channels'),
  groups: byId('groups'),
  groupsPanel: byId('groups-panel'),
  groupsToggle: byId('groups-toggle'),
  joinForm: byId('join-form'),
  joinName: byId('join-name'),
  echoForm: byId('echo-form'),
  echoText: byId('echo-text'),
  echoResult: byId('echo-result'),
  channelTitle: byId('channel-title'),
  channelMembers: byId('channel-members'),
  closed: byId('closed'),
  closedText: byId('closed-text'),
  signInAgain: byId('sign-in-again'),
  logs: byId('logs'),
  composer: byId('composer'),
  messageLabel: byId('message-label'),
  messageText: byId('message-text'),
};

/**
 * @typedef {object} Channel
 * @property {string} key The group, or `everyone` for broadcasts.
 * @property {HTMLOListElement} log Its messages.
 * @property {number} unread Messages that came while another channel was shown.
 * @property {string[]} members Who is online (groups only).
 * @property {boolean} joined Whether it is listed (broadcasts always are).
 * @property {Set<string>} shown The ids of the messages on screen: a message that comes both live and from history
 *   (or recovery) is shown once.
 * @property {boolean} delivered Whether a message came live; the client recovers only such channels after a
 *   reconnect, and the page reloads the history of the others.
 * @property {Element | null} beforeDrop The last item on screen when the connection was lost: a gap goes after it.
 */

const session = new AuthSession();
/** @type {SecureHubClient | null} */
let client = null;
/** @type {Map<string, Channel>} */
let channels = new Map();
let active = everyone;
let signingOut = false;
let connectionAlert = false;
/**
 * Groups this page is joining right now. The server announces a join to the whole group, the joining connection
 * included, before it answers: that announcement is this page's own; any other of the same user is another window's.
 * @type {Set<string>}
 */
const joining = new Set();

ui.signInForm.addEventListener('submit', (/** @type {SubmitEvent} */ event) => {
  event.preventDefault();
  void signIn();
});
ui.signOut.addEventListener('click', () => void signOut());
ui.signInAgain.addEventListener('click', () => showSignIn(null));
ui.alertDismiss.addEventListener('click', hideAlert);
ui.composer.addEventListener('submit', (/** @type {SubmitEvent} */ event) => {
  event.preventDefault();
  void send();
});
ui.joinForm.addEventListener('submit', (/** @type {SubmitEvent} */ event) => {
  event.preventDefault();
  const name = ui.joinName.value.trim();
  if (name) {
    void joinGroup(name).then((joined) => {
      if (joined) {
        ui.joinName.value = '';
      }
    });
  }
});
ui.groupsToggle.addEventListener('click', () => setGroupsExpanded(ui.groupsToggle.getAttribute('aria-expanded') !== 'true'));
// On a phone the groups panel sits collapsed above the conversation, so that the messages stay on screen; on a wider
// screen it is always open in the sidebar, and its heading is no button.
const phone = window.matchMedia('(max-width: 720px)');
phone.addEventListener('change', () => setGroupsExpanded(!phone.matches));
setGroupsExpanded(!phone.matches);
ui.echoForm.addEventListener('submit', (/** @type {SubmitEvent} */ event) => {
  event.preventDefault();
  void echo();
});

showSignIn(null);

async function signIn() {
  const username = ui.username.value.trim();
  const password = ui.password.value;
  if (!username || !password) {
    showSignInError('Enter your user name and password.');
    return;
  }

  ui.signInButton.disabled = true;
  ui.signInError.hidden = true;
  setStatus('connecting', 'Signing in…');
  try {
    await client?.stop();
    const account = await session.login(username, password);
    ui.password.value = '';
    openChat(account.user);
    await connect();
  } catch (error) {
    client = null;
    showSignIn(null);
    showSignInError(describe(error));
  } finally {
    ui.signInButton.disabled = false;
  }
}

async function connect() {
  const current = new SecureHubClient({
    url: session.hubUrl,
    getTicket: session.getTicket,
    logger: console,
    logLevel: 'warn',
  });
  client = current;
  current.on('state', (change) => {
    if (client === current) {
      onState(change);
    }
  });
  current.on('message', (message) => onMessage(message));
  current.on('gap', ({ group }) => addGap(group ?? everyone));
  current.on('userJoined', (presence) => onPresence(presence, true));
  current.on('userLeft', (presence) => onPresence(presence, false));
  current.on('error', (error) => showAlert(describe(error)));
  await current.start();
  renderGroups();
  ui.messageText.focus();
  await loadHistory(everyone);
}

/** @param {import('signalr-secure-client').StateChange} change */
function onState(change) {
  switch (change.state) {
    case ConnectionStates.Connecting:
      setStatus('connecting', 'Connecting…');
      setAccountState('Connecting as');
      setEnabled(false);
      break;
    case ConnectionStates.Authenticated: {
      setStatus('authenticated', 'Connected');
      setAccountState('Signed in as');
      const reconnected = change.attempt === 0 && [...channels.values()].some((c) => c.beforeDrop !== null);
      if (connectionAlert) {
        hideAlert();
        addEvent(active, 'Reconnected.');
      }

      setEnabled(true);
      for (const group of client?.joinedGroups ?? []) {
        void refreshMembers(group);
      }

      if (reconnected) {
        void catchUp();
      }

      break;
    }
    case ConnectionStates.Reconnecting: {
      const why = change.reason ? closeReasonText.get(change.reason) ?? `The server closed the connection (${change.reason}).` : 'The connection was lost.';
      setStatus('reconnecting', `Reconnecting (attempt ${change.attempt})…`);
      setAccountState('Reconnecting as');
      // Calls would only wait for the new connection (or fail with it): nothing to send until it is there.
      setEnabled(false);
      showAlert(`${why} Reconnecting…`);
      connectionAlert = true;
      for (const channel of channels.values()) {
        channel.beforeDrop ??= channel.log.lastElementChild;
      }

      break;
    }
    case ConnectionStates.Closed:
      onClosed(change.error);
      break;
  }
}

/** @param {Error | null} error */
function onClosed(error) {
  const reason = error instanceof HubClosedError ? error.reason : null;
  if (signingOut) {
    signingOut = false;
    showSignIn(reason
      ? `You signed out. The server closed the connection: “${reason}”.`
      : 'You signed out.');
    return;
  }

  if (!error) {
    setStatus('signed-out', 'Signed out');
    return;
  }

  setStatus('closed', reason ? `Disconnected: ${reason}` : 'Disconnected');
  setAccountState('Was signed in as');
  hideAlert();
  setEnabled(false);
  renderMembers();
  renderGroups();

  // After these the login session is gone as well: only signing in again helps.
  ui.signOut.hidden = reason === CloseReasons.LoggedOut || reason === CloseReasons.Revoked
    || (error instanceof AuthRequestError && error.status === 401);
  ui.closedText.textContent = reason
    ? `The server closed the connection: “${reason}”. ${closeReasonText.get(reason) ?? ''}`
    : describe(error);
  ui.closed.hidden = false;
  ui.signInAgain.focus();
}

async function signOut() {
  const current = client;
  signingOut = true;
  setStatus('connecting', 'Signing out…');

  // The server closes every connection of the user with `logged out`; the state handler takes it from there.
  /** @type {() => void} */
  let unsubscribe = () => {};
  const closed = new Promise((resolve) => {
    unsubscribe = current?.on('state', (change) => change.state === ConnectionStates.Closed && resolve(change)) ?? unsubscribe;
  });
  try {
    await session.logout();
  } catch (error) {
    // The session may well still be valid: stay connected and say so.
    unsubscribe();
    signingOut = false;
    setStatus(current?.state === ConnectionStates.Authenticated ? 'authenticated' : 'closed',
      current?.state === ConnectionStates.Authenticated ? 'Connected' : 'Disconnected');
    showAlert(`Could not sign out. ${describe(error)}`);
    return;
  }

  await Promise.race([closed, new Promise((resolve) => setTimeout(resolve, 3_000))]);
  unsubscribe();
  await current?.stop();
  if (signingOut) {
    signingOut = false;
    showSignIn('You signed out.');
  }
}

/** @param {string} user */
function openChat(user) {
  channels = new Map();
  active = everyone;
  ui.logs.replaceChildren();
  channelFor(everyone).joined = true;
  ui.accountName.textContent = user;
  setAccountState('Connecting as');
  ui.account.hidden = false;
  ui.signOut.hidden = false;
  ui.signIn.hidden = true;
  ui.closed.hidden = true;
  ui.chat.hidden = false;
  ui.echoResult.textContent = '';
  hideAlert();
  setEnabled(false);
  selectChannel(everyone);
  renderGroups();
}

/** @param {string | null} notice */
function showSignIn(notice) {
  ui.chat.hidden = true;
  ui.account.hidden = true;
  ui.signIn.hidden = false;
  ui.signInNotice.hidden = !notice;
  ui.signInNotice.textContent = notice ?? '';
  hideAlert();
  setStatus('signed-out', 'Signed out');
  ui.username.focus();
}

/** @param {string} text */
function showSignInError(text) {
  ui.signInError.textContent = text;
  ui.signInError.hidden = false;
}

/**
 * @param {string} state
 * @param {string} text
 */
function setStatus(state, text) {
  ui.status.dataset.state = state;
  ui.status.textContent = text;
}

/**
 * What the header says before the user's name: whether the page is connected as that user right now.
 * @param {string} text
 */
function setAccountState(text) {
  ui.accountState.textContent = text;
}

/** @param {boolean} expanded */
function setGroupsExpanded(expanded) {
  ui.groupsToggle.setAttribute('aria-expanded', String(expanded || !phone.matches));
  ui.groupsToggle.disabled = !phone.matches;
  ui.groupsPanel.classList.toggle('collapsed', !expanded && phone.matches);
}

/** @param {string} text */
function showAlert(text) {
  connectionAlert = false;
  ui.alertText.textContent = text;
  ui.alert.hidden = false;
}

function hideAlert() {
  connectionAlert = false;
  ui.alert.hidden = true;
  ui.alertText.textContent = '';
}

/** @param {boolean} enabled */
function setEnabled(enabled) {
  for (const form of [ui.composer, ui.joinForm, ui.echoForm]) {
    for (const control of form.elements) {
      control.disabled = !enabled;
    }
  }

  for (const button of ui.groups.querySelectorAll('button')) {
    button.disabled = !enabled;
  }
}

/**
 * @param {string} key
 * @returns {Channel}
 */
function channelFor(key) {
  let channel = channels.get(key);
  if (!channel) {
    const log = document.createElement('ol');
    log.className = 'messages';
    log.setAttribute('role', 'log');
    log.setAttribute('aria-label', key === everyone ? 'Messages to everyone' : `Messages in ${key}`);
    log.hidden = true;
    const empty = document.createElement('li');
    empty.className = 'empty';
    empty.textContent = key === everyone ? 'No broadcasts yet. Say hello to everyone.' : `No messages in ${key} yet.`;
    log.append(empty);
    ui.logs.append(log);
    channel = { key, log, unread: 0, members: [], joined: false, shown: new Set(), delivered: false, beforeDrop: null };
    channels.set(key, channel);
  }

  return channel;
}

/** @param {string} key */
function selectChannel(key) {
  active = key;
  const channel = channelFor(key);
  channel.unread = 0;
  for (const other of channels.values()) {
    other.log.hidden = other !== channel;
  }

  const name = key === everyone ? 'Everyone' : `# ${key}`;
  ui.channelTitle.textContent = name;
  ui.messageLabel.textContent = key === everyone ? 'Message to everyone' : `Message to # ${key}`;
  renderMembers();
  renderChannels();
  scrollToEnd(channel);
}

function renderChannels() {
  const items = [...channels.values()].filter((c) => c.joined).map((channel) => {
    const button = document.createElement('button');
    button.type = 'button';
    button.className = 'channel';
    button.setAttribute('aria-current', String(channel.key === active));
    const name = document.createElement('span');
    name.className = 'channel-name';
    name.textContent = channel.key === everyone ? 'Everyone (broadcast)' : `# ${channel.key}`;
    button.append(name);
    if (channel.unread > 0) {
      const badge = document.createElement('span');
      badge.className = 'badge';
      badge.textContent = String(channel.unread);
      badge.setAttribute('aria-label', `${channel.unread} unread`);
      button.append(badge);
    }

    button.addEventListener('click', () => {
      selectChannel(channel.key);
      ui.messageText.focus();
    });
    const item = document.createElement('li');
    item.append(button);
    return item;
  });
  ui.channels.replaceChildren(...items);
}

function renderGroups() {
  const allowed = client?.allowedGroups ?? session.account?.groups ?? [];
  const joined = new Set(client?.joinedGroups ?? []);
  const names = [...new Set([...allowed, ...joined])];
  const items = names.map((group) => {
    const item = document.createElement('li');
    item.className = 'group';
    const name = document.createElement('span');
    name.className = 'group-name';
    name.textContent = group;
    item.append(name);
    if (group.includes('*')) {
      // A pattern such as team-*: any matching name can be joined with the form below.
      const note = document.createElement('span');
      note.className = 'group-members';
      note.textContent = 'Pattern: join any matching name below.';
      item.append(note);
      return item;
    }

    const button = document.createElement('button');
    button.type = 'button';
    button.className = 'button button-quiet button-small';
    button.textContent = joined.has(group) ? 'Leave' : 'Join';
    button.setAttribute('aria-label', `${joined.has(group) ? 'Leave' : 'Join'} ${group}`);
    button.disabled = client?.state !== ConnectionStates.Authenticated;
    button.addEventListener('click', () => void (joined.has(group) ? leaveGroup(group) : joinGroup(group)));
    item.append(button);
    if (joined.has(group) && client?.state !== ConnectionStates.Closed) {
      const members = document.createElement('p');
      members.className = 'group-members';
      const online = channelFor(group).members;
      members.textContent = online.length ? `Online: ${online.join(', ')}` : 'Online: …';
      item.append(members);
    }

    return item;
  });
  ui.groups.replaceChildren(...items);
}

function renderMembers() {
  if (client?.state === ConnectionStates.Closed) {
    ui.channelMembers.textContent = 'You are offline.';
    return;
  }

  if (active === everyone) {
    ui.channelMembers.textContent = 'Broadcasts reach everyone who is signed in.';
    return;
  }

  const members = channelFor(active).members;
  ui.channelMembers.textContent = members.length ? `Online: ${members.join(', ')}` : 'Online: …';
}

/**
 * @param {string} group
 * @returns {Promise<boolean>} Whether the group was joined.
 */
async function joinGroup(group) {
  if (!client) {
    return false;
  }

  joining.add(group);
  try {
    await client.joinGroup(group);
  } catch (error) {
    showAlert(`Could not join ${group}. ${describe(error)}`);
    return false;
  } finally {
    joining.delete(group);
  }

  const channel = channelFor(group);
  channel.joined = true;
  selectChannel(group);
  renderGroups();
  await Promise.all([refreshMembers(group), loadHistory(group)]);
  ui.messageText.focus();
  return true;
}

/**
 * Shows the last messages of a channel before the live ones, each once.
 * @param {string} key
 * @returns {Promise<ChatMessage[] | null>} The messages read, or null when they could not be.
 */
async function loadHistory(key) {
  const current = client;
  /** @type {ChatMessage[]} */
  let messages;
  try {
    messages = await current?.history(key === everyone ? null : key, { limit: historyPageSize }) ?? [];
  } catch (error) {
    // History is a convenience: the live messages still come. Say why the channel starts empty.
    if (current === client && !(error instanceof HubClosedError)) {
      addEvent(key, `Earlier messages could not be loaded. ${describe(error)}`);
    }

    return null;
  }

  if (current !== client) {
    return null;
  }

  for (const message of messages) {
    showMessage(message, false);
  }

  return messages;
}

/**
 * After a reconnect: the client recovered the channels that had delivered a live message; the others (opened, shown
 * their history, and quiet since) read their history again, so that what was said meanwhile shows up too.
 */
async function catchUp() {
  const quiet = [...channels.values()].filter((c) => c.joined && !c.delivered && c.beforeDrop !== null);
  for (const channel of channels.values()) {
    if (!quiet.includes(channel)) {
      channel.beforeDrop = null;
    }
  }

  await Promise.all(quiet.map(async (channel) => {
    const newestShown = newestId(channel);
    const messages = await loadHistory(channel.key);
    // A full page that starts after the newest message shown may not reach back to it.
    if (messages && newestShown && messages.length >= historyPageSize && isMessageId(messages[0].id)
      && compareMessageIds(messages[0].id, newestShown) > 0) {
      addGap(channel.key);
    }

    channel.beforeDrop = null;
  }));
}

/**
 * @param {Channel} channel
 * @returns {string | null} The newest id on screen.
 */
function newestId(channel) {
  let newest = null;
  for (const id of channel.shown) {
    if (newest === null || compareMessageIds(id, newest) > 0) {
      newest = id;
    }
  }

  return newest;
}

/**
 * Marks where messages may be missing: after what was on screen when the connection was lost.
 * @param {string} key
 */
function addGap(key) {
  const channel = channelFor(key);
  const item = document.createElement('li');
  item.className = 'event gap';
  item.textContent = 'Some messages may be missing here.';
  const after = channel.beforeDrop;
  channel.beforeDrop = null;
  if (after && after.parentElement === channel.log) {
    channel.log.querySelector('.empty')?.remove();
    after.after(item);
  } else {
    append(channel, item, false);
  }
}

/** @param {string} group */
async function leaveGroup(group) {
  if (!client) {
    return;
  }

  try {
    await client.leaveGroup(group);
  } catch (error) {
    showAlert(`Could not leave ${group}. ${describe(error)}`);
  }

  channelFor(group).joined = client.joinedGroups.includes(group);
  if (active === group && !channelFor(group).joined) {
    selectChannel(everyone);
  }

  renderChannels();
  renderGroups();
}

/** @param {string} group */
async function refreshMembers(group) {
  try {
    const members = await client?.getGroupMembers(group);
    channelFor(group).members = [...new Set(members ?? [])].sort();
  } catch {
    // Left the group or lost the connection meanwhile; the next presence change or reconnect refreshes it.
    return;
  }

  renderGroups();
  if (active === group) {
    renderMembers();
  }
}

async function send() {
  const text = ui.messageText.value;
  if (!client || text.trim() === '') {
    return;
  }

  const target = active;
  try {
    if (target === everyone) {
      await client.broadcast(text);
    } else {
      await client.sendToGroup(target, text);
    }

    if (ui.messageText.value === text) {
      ui.messageText.value = '';
    }
  } catch (error) {
    showAlert(`Not sent. ${describe(error)}`);
  }
}

async function echo() {
  const text = ui.echoText.value;
  if (!client || text === '') {
    return;
  }

  try {
    const echoed = await client.echo(text);
    ui.echoResult.textContent = `The server echoed: ${echoed}`;
  } catch (error) {
    ui.echoResult.textContent = '';
    showAlert(`Echo failed. ${describe(error)}`);
  }
}

/** @typedef {import('signalr-secure-client').ChatMessage} ChatMessage */

/** @param {ChatMessage} message */
function onMessage(message) {
  channelFor(message.group ?? everyone).delivered = true;
  showMessage(message, true);
}

/**
 * Puts a message on screen once, in id order among the messages of its channel.
 * @param {ChatMessage} message
 * @param {boolean} live Whether it came live (it then counts as unread).
 */
function showMessage(message, live) {
  const key = message.group ?? everyone;
  const channel = channelFor(key);
  const id = isMessageId(message.id) ? message.id : null;
  if (id !== null) {
    if (channel.shown.has(id)) {
      return;
    }

    channel.shown.add(id);
  }

  const item = document.createElement('li');
  item.className = message.from === client?.user ? 'message own' : 'message';
  const meta = document.createElement('div');
  meta.className = 'message-meta';
  const from = document.createElement('span');
  from.className = 'message-from';
  from.textContent = message.from;
  const time = document.createElement('time');
  time.dateTime = message.sentAt;
  time.textContent = formatTime(message.sentAt);
  meta.append(from, time);
  const text = document.createElement('p');
  text.className = 'message-text';
  text.textContent = message.text;
  item.append(meta, text);
  if (id === null) {
    append(channel, item, live);
    return;
  }

  item.dataset.id = id;
  // Usually the newest: a message from history, or one another node published late, goes before any newer one.
  /** @type {HTMLElement | null} */
  let before = null;
  for (let node = channel.log.lastElementChild; node; node = node.previousElementSibling) {
    const other = /** @type {HTMLElement} */ (node).dataset.id;
    if (other === undefined) {
      continue;
    }

    if (compareMessageIds(other, id) < 0) {
      break;
    }

    before = /** @type {HTMLElement} */ (node);
  }

  if (before) {
    channel.log.querySelector('.empty')?.remove();
    before.before(item);
  } else {
    append(channel, item, live);
  }
}

/**
 * @param {import('signalr-secure-client').GroupPresence} presence
 * @param {boolean} joined
 */
function onPresence(presence, joined) {
  const self = presence.user === client?.user;
  // This page's own join: one it asked for, or a rejoin while reconnecting (done before the client is authenticated).
  const own = self && (!joined || joining.has(presence.group) || client?.state !== ConnectionStates.Authenticated);
  const who = own ? 'You' : self ? `${presence.user} (you, in another window)` : presence.user;
  addEvent(presence.group, `${who} ${joined ? 'joined' : 'left'} ${presence.group}.`);
  if (!(self && !joined)) {
    void refreshMembers(presence.group);
  }
}

/**
 * @param {string} key
 * @param {string} text
 */
function addEvent(key, text) {
  const item = document.createElement('li');
  item.className = 'event';
  item.textContent = text;
  append(channelFor(key), item, false);
}

/**
 * @param {Channel} channel
 * @param {HTMLLIElement} item
 * @param {boolean} [counts] Whether it counts as unread.
 */
function append(channel, item, counts = true) {
  channel.log.querySelector('.empty')?.remove();
  channel.log.append(item);
  if (channel.key === active) {
    scrollToEnd(channel);
  } else if (counts && channel.joined) {
    channel.unread += 1;
    renderChannels();
  }
}

/** @param {Channel} channel */
function scrollToEnd(channel) {
  if (channel.key === active) {
    ui.logs.scrollTop = ui.logs.scrollHeight;
  }
}

/** @param {string} value */
function formatTime(value) {
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? '' : date.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
}

/**
 * A sentence for a person, from the client's typed errors.
 * @param {unknown} error
 * @returns {string}
 */
function describe(error) {
  if (error instanceof HubInvocationError) {
    return (error.reason && hubErrorText.get(error.reason)) ?? `The server refused it${error.reason ? ` (${error.reason})` : ''}.`;
  }

  if (error instanceof HubClosedError) {
    if (error.reason) {
      return `The server closed the connection: “${error.reason}”. ${closeReasonText.get(error.reason) ?? ''}`.trim();
    }

    return 'The connection to the server was lost.';
  }

  if (error instanceof AuthRequestError) {
    if (error.status === 401 && error.path === SecureEndpoints.Login) {
      return 'Wrong user name or password.';
    }

    if (error.status === 401) {
      return 'Your sign-in session has ended. Sign in again.';
    }

    if (error.status === 429) {
      return `Too many attempts. Try again in ${error.retryAfter ?? 60} seconds.`;
    }

    if (error.status === 0) {
      return 'The server cannot be reached.';
    }

    return `The server refused the request (${error.status}${error.error ? `: ${error.error}` : ''}).`;
  }

  return error instanceof Error ? error.message : String(error);
}
