/**
 * What to do about a venue connection that failed, by the socket's errno code: a host name that
 * does not resolve needs another fix than a port nobody listens on. Shared by the SoupBinTCP client
 * and the FIX connector so an operator reads the same advice for both. Start-up/error path only.
 */
export function socketErrorFix(errno: string | undefined, host: string, port: number): string {
  switch (errno) {
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EAI_NONAME':
      return `the host name '${host}' does not resolve: check the venue host (or give its IP address)`;
    case 'ECONNREFUSED':
      return `nothing listens on ${host}:${port}: start the venue or check the port`;
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
    case 'ETIMEDOUT':
      return `${host} cannot be reached: check the address, the route and any firewall`;
    case 'ECONNRESET':
    case 'EPIPE':
      return `${host}:${port} closed the connection: check the venue's logs (credentials, session, sequence numbers)`;
    default:
      return `check that the venue is listening on ${host}:${port}`;
  }
}
