namespace SignalRSecure.Server.Hubs;

/// <summary>
/// Who is in which chat group: the membership checks, the group cap and <c>GetGroupMembers</c> read it. The
/// default keeps this process's connections; a shared implementation lets several nodes share it.
/// </summary>
public interface IGroupRoster
{
    /// <summary>The outcome of <see cref="TryJoin"/>.</summary>
    enum JoinResult
    {
        /// <summary>The connection is now a member.</summary>
        Joined,

        /// <summary>The connection was a member already.</summary>
        AlreadyMember,

        /// <summary>The connection is in as many groups as it may be.</summary>
        TooManyGroups,
    }

    /// <summary>Adds a connection of <paramref name="user"/> to <paramref name="group"/>, unless it is in <paramref name="maximumGroups"/> groups already.</summary>
    JoinResult TryJoin(string connectionId, string user, string group, int maximumGroups);

    /// <summary>Removes a connection from a group; false when it was not a member.</summary>
    bool Leave(string connectionId, string group);

    /// <summary>Whether the connection is a member of the group.</summary>
    bool IsMember(string connectionId, string group);

    /// <summary>The groups the connection is a member of.</summary>
    IReadOnlyList<string> GroupsOf(string connectionId);

    /// <summary>The distinct users with at least one connection in the group, sorted.</summary>
    IReadOnlyList<string> Members(string group);

    /// <summary>Removes a closed connection from every group; returns the groups its user no longer has any connection in.</summary>
    IReadOnlyList<string> RemoveConnection(string connectionId);
}
