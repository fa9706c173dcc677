using System.Net;
using System.Net.Sockets;
using System.Text;
using Mallard.Balancer.Forwarding;
using Mallard.Balancer.Tests.TestSupport;
using Mallard.TestSupport;

namespace Mallard.Balancer.Tests.Forwarding;

/// <summary>
/// The flow journal: what a balancer relays survives the process. Unit tests of the file, then
/// the real <c>mallard lb</c> killed with SIGKILL while a backend sends to a client that never
/// speaks again, and started once more: the client gets the backend's datagrams again.
/// </summary>
public sealed class FlowJournalTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("mallard-journal-").FullName;

    [Fact]
    public void RecordedFlowsComeBackAndForgottenOnesDoNot()
    {
        string path = Path.Combine(_folder, "flows");
        var first = new FlowJournal.JournalRecord(0, new IPEndPoint(IPAddress.Parse("192.0.2.7"), 50_000), new IPEndPoint(IPAddress.Loopback, 4434), 20_000);
        var second = new FlowJournal.JournalRecord(1, new IPEndPoint(IPAddress.Parse("2001:db8::9"), 443), new IPEndPoint(IPAddress.Parse("10.0.0.2"), 4435), 20_001);
        using (FlowJournal journal = FlowJournal.Open(path, slots: 4, out IReadOnlyList<FlowJournal.JournalRecord> none))
        {
            Assert.Empty(none);
            int a = journal.Record(first);
            int b = journal.Record(second);
            int c = journal.Record(first);
            journal.Forget(c);
            Assert.NotEqual(a, b);
        }

        using (FlowJournal journal = FlowJournal.Open(path, slots: 4, out IReadOnlyList<FlowJournal.JournalRecord> previous))
        {
            Assert.Equal([first, second], previous.OrderBy(r => r.Listener));
        }

        // Opening takes the records and starts the file over: what is not recorded again is gone.
        using (FlowJournal.Open(path, slots: 4, out IReadOnlyList<FlowJournal.JournalRecord> after))
        {
            Assert.Empty(after);
        }
    }

    [Fact]
    public void ASecondBalancerCannotOpenAJournalInUse()
    {
        string path = Path.Combine(_folder, "flows");
        using FlowJournal first = FlowJournal.Open(path, slots: 2, out _);
        var refused = Assert.Throws<IOException>(() => FlowJournal.Open(path, slots: 2, out _));
        Assert.Contains("in use by another process", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AFileThatIsNotAJournalIsRefusedAndLeftAsItIs()
    {
        string path = Path.Combine(_folder, "lb.json");
        File.WriteAllText(path, "{ \"Mallard\": { } }");
        var refused = Assert.Throws<IOException>(() => FlowJournal.Open(path, slots: 2, out _));
        Assert.Contains("is not a flow journal", refused.Message, StringComparison.Ordinal);
        Assert.Equal("{ \"Mallard\": { } }", File.ReadAllText(path));
    }

    [Fact]
    public void AJournalWrittenWithOtherLimitsKeepsItsFlows()
    {
        string path = Path.Combine(_folder, "flows");
        var record = new FlowJournal.JournalRecord(0, new IPEndPoint(IPAddress.Loopback, 1), new IPEndPoint(IPAddress.Loopback, 2), 3);
        using (FlowJournal journal = FlowJournal.Open(path, slots: 8, out _))
        {
            journal.Record(record);
        }

        using (FlowJournal journal = FlowJournal.Open(path, slots: 2, out IReadOnlyList<FlowJournal.JournalRecord> previous))
        {
            Assert.Equal([record], previous); // MaxFlows was lowered; the flow is still restored
            Assert.Equal(2, journal.Slots);
        }
    }

    [Fact]
    public void AFullJournalCountsAndATornSlotIsIgnored()
    {
        string path = Path.Combine(_folder, "flows");
        var record = new FlowJournal.JournalRecord(0, new IPEndPoint(IPAddress.Loopback, 1), new IPEndPoint(IPAddress.Loopback, 2), 3);
        using (FlowJournal journal = FlowJournal.Open(path, slots: 2, out _))
        {
            Assert.True(journal.Record(record) >= 0);
            Assert.True(journal.Record(record) >= 0);
            Assert.Equal(-1, journal.Record(record));
            Assert.Equal(1, journal.Full);
        }

        // A crash in the middle of a write: one octet of the second slot differs from its checksum.
        byte[] file = File.ReadAllBytes(path);
        file[64 + FlowJournal.SlotSize + 4] ^= 0xff;
        File.WriteAllBytes(path, file);
        using (FlowJournal.Open(path, slots: 2, out IReadOnlyList<FlowJournal.JournalRecord> previous))
        {
            Assert.Single(previous);
        }
    }

    [Fact]
    public async Task AfterKillNineABalancerStartedAgainRelaysToAClientThatStaysSilent()
    {
        // A backend that, once a client has spoken, keeps sending to it (a download).
        using var backend = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        backend.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        using var stop = new CancellationTokenSource();
        Task pushing = Task.Run(async () =>
        {
            var buffer = new byte[2_048];
            SocketReceiveFromResult first = await backend.ReceiveFromAsync(buffer, new IPEndPoint(IPAddress.Any, 0), stop.Token);
            for (int sequence = 0; !stop.IsCancellationRequested; sequence++)
            {
                await backend.SendToAsync(Encoding.ASCII.GetBytes($"push {sequence}"), first.RemoteEndPoint);
                await Task.Delay(20);
            }
        });

        int listen = FreePorts.Udp(1)[0];
        string journal = Path.Combine(_folder, "flows");
        string config = Path.Combine(_folder, "lb.json");
        await File.WriteAllTextAsync(config, $$"""
            { "Mallard": { "Balancer": {
              "Listen": [ "127.0.0.1:{{listen}}" ], "Admin": "off", "Workers": 1,
              "Configs": [ { "Id": 0, "ServerIdLength": 4, "NonceLength": 8 } ],
              "Backends": [ { "Address": "{{backend.LocalEndPoint}}", "ServerIds": { "0": "41414141" } } ],
              "Health": { "Enabled": false },
              "Proxy": { "FlowJournal": "{{journal}}" }
            } } }
            """);
        string mallard = MallardProcess.Dll;

        using var client = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        client.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        client.ReceiveTimeout = 200;
        using (RunningProcess first = RunningProcess.Start("dotnet", [mallard, "lb", "--config", config]))
        {
            Assert.True(await first.WaitForOutputAsync("Listening on", TimeSpan.FromSeconds(30)), first.Output);
            client.SendTo(Packets.Short(Convert.FromHexString("00414141410102030405060708")), new IPEndPoint(IPAddress.Loopback, listen));
            Assert.True(Pushes(client, 3, TimeSpan.FromSeconds(10)), "the backend's datagrams did not reach the client through the first balancer");

            first.Kill();
            await first.WaitForExitAsync(TimeSpan.FromSeconds(10));
        }

        while (Pushes(client, 1, TimeSpan.FromMilliseconds(300)))
        {
            // what the first balancer relayed before it died
        }

        Assert.False(Pushes(client, 1, TimeSpan.FromMilliseconds(500)), "datagrams arrived with no balancer running");

        // Started again; the client says nothing more. The flow comes back from the journal.
        using (RunningProcess second = RunningProcess.Start("dotnet", [mallard, "lb", "--config", config]))
        {
            Assert.True(await second.WaitForOutputAsync("Listening on", TimeSpan.FromSeconds(30)), second.Output);
            Assert.True(Pushes(client, 3, TimeSpan.FromSeconds(10)), "the restarted balancer did not relay the silent client's flow: " + second.Output);
            Assert.True(await second.WaitForOutputAsync("Restored 1 of 1 flows", TimeSpan.FromSeconds(10)), second.Output); // the console log is written asynchronously
            second.Terminate();
            await second.WaitForExitAsync(TimeSpan.FromSeconds(10));
        }

        await stop.CancelAsync();
        await Task.WhenAny(pushing);
    }

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    /// <summary>Whether <paramref name="count"/> pushes arrive within <paramref name="within"/>; older queued ones are drained first.</summary>
    private static bool Pushes(Socket client, int count, TimeSpan within)
    {
        var buffer = new byte[2_048];
        long deadline = Environment.TickCount64 + (long)within.TotalMilliseconds;
        int seen = 0;
        while (seen < count && Environment.TickCount64 < deadline)
        {
            try
            {
                client.Receive(buffer);
                seen++;
            }
            catch (SocketException error) when (error.SocketErrorCode == SocketError.TimedOut)
            {
            }
        }

        return seen >= count;
    }
}
