namespace SignalRSecure.AspNetCore.Tickets;

/// <summary>Why a ticket was refused; for logs and metrics only, never for the client.</summary>
internal enum TicketRejection
{
    Malformed,
    Unknown,
    Expired,
    WrongIp,
    WrongOrigin,
    WrongUserAgent,
    WrongUser,
}
