namespace SignalRSecure.Client;
