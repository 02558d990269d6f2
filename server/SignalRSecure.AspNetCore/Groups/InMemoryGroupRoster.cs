namespace SignalRSecure.AspNetCore.Groups;

/// <summary>The default <see cref="IGroupRoster"/>: this process's connections. It never fails, and completes synchronously.</summary>
internal sealed class InMemoryGroupRoster : IGroupRoster
{
    // One lock keeps the two indexes consistent; joins and leaves are rare next to messages, which never take it.
    private readonly Lock _lock = new();
    private readonly Dictionary<string, Dictionary<string, string>> _membersByGroup = new(StringComparer.Ordinal);
    private readonly Dictionary<string, HashSet<string>> _groupsByConnection = new(StringComparer.Ordinal);

    public ValueTask<IGroupRoster.JoinResult> TryJoinAsync(string connectionId, string user, string group, int maximumGroups, CancellationToken cancellationToken = default) =>
        ValueTask.FromResult(TryJoin(connectionId, user, group, maximumGroups));

    public ValueTask<bool> LeaveAsync(string connectionId, string group, CancellationToken cancellationToken = default) =>
        ValueTask.FromResult(Leave(connectionId, group));

    public ValueTask<bool> IsMemberAsync(string connectionId, string group, CancellationToken cancellationToken = default) =>
        ValueTask.FromResult(IsMember(connectionId, group));

    public ValueTask<IReadOnlyList<string>> GroupsOfAsync(string connectionId, CancellationToken cancellationToken = default) =>
        ValueTask.FromResult(GroupsOf(connectionId));

    public ValueTask<IReadOnlyList<string>> MembersAsync(string group, CancellationToken cancellationToken = default) =>
        ValueTask.FromResult(Members(group));

    public ValueTask<IReadOnlyList<string>> RemoveConnectionAsync(string connectionId, CancellationToken cancellationToken = default) =>
        ValueTask.FromResult(RemoveConnection(connectionId));

    private IGroupRoster.JoinResult TryJoin(string connectionId, string user, string group, int maximumGroups)
    {
        lock (_lock)
        {
            if (!_groupsByConnection.TryGetValue(connectionId, out var groups))
            {
                _groupsByConnection[connectionId] = groups = new(StringComparer.Ordinal);
            }

            if (groups.Contains(group))
            {
                return IGroupRoster.JoinResult.AlreadyMember;
            }

            if (groups.Count >= maximumGroups)
            {
                return IGroupRoster.JoinResult.TooManyGroups;
            }

            groups.Add(group);
            if (!_membersByGroup.TryGetValue(group, out var members))
            {
                _membersByGroup[group] = members = new(StringComparer.Ordinal);
            }

            members[connectionId] = user;
            return IGroupRoster.JoinResult.Joined;
        }
    }

    private bool Leave(string connectionId, string group)
    {
        lock (_lock)
        {
            if (!_groupsByConnection.TryGetValue(connectionId, out var groups) || !groups.Remove(group))
            {
                return false;
            }

            if (groups.Count == 0)
            {
                _groupsByConnection.Remove(connectionId);
            }

            RemoveMember(group, connectionId);
            return true;
        }
    }

    private bool IsMember(string connectionId, string group)
    {
        lock (_lock)
        {
            return _groupsByConnection.TryGetValue(connectionId, out var groups) && groups.Contains(group);
        }
    }

    private IReadOnlyList<string> GroupsOf(string connectionId)
    {
        lock (_lock)
        {
            return _groupsByConnection.TryGetValue(connectionId, out var groups) ? [.. groups] : [];
        }
    }

    private IReadOnlyList<string> Members(string group)
    {
        lock (_lock)
        {
            return _membersByGroup.TryGetValue(group, out var members)
                ? [.. members.Values.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)]
                : [];
        }
    }

    private IReadOnlyList<string> RemoveConnection(string connectionId)
    {
        lock (_lock)
        {
            if (!_groupsByConnection.Remove(connectionId, out var groups))
            {
                return [];
            }

            var left = new List<string>();
            foreach (var group in groups)
            {
                var user = RemoveMember(group, connectionId);
                if (user is not null && !(_membersByGroup.TryGetValue(group, out var members) && members.ContainsValue(user)))
                {
                    left.Add(group);
                }
            }

            return left;
        }
    }

    private string? RemoveMember(string group, string connectionId)
    {
        if (!_membersByGroup.TryGetValue(group, out var members) || !members.Remove(connectionId, out var user))
        {
            return null;
        }

        if (members.Count == 0)
        {
            _membersByGroup.Remove(group);
        }

        return user;
    }
}
