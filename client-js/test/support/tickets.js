/**
 * A getTicket for SecureHubClient that mints issuer tickets (no PBKDF2 login per connection), counts the calls,
 * and announces every ticket as a secret to the test's logger.
 * @param {import('./server.js').TestServer} server
 * @param {string} user
 * @param {string[]} groups
 * @param {{ secret(value: string): void }} logs
 */
export function issuerTickets(server, user, groups, logs) {
  /** @type {string[]} */
  const issued = [];
  const getTicket = async () => {
    const ticket = await server.issueTicket(user, groups);
    logs.secret(ticket);
    issued.push(ticket);
    return ticket;
  };
  return { getTicket, issued };
}
