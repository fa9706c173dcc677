using System.Globalization;
using Mallard.Balancer.Tests.TestSupport;
using Microsoft.Playwright;

namespace Mallard.Balancer.Tests.Admin;

/// <summary>
/// The admin endpoint's live dashboard in a real browser: Debian's chromium, driven by
/// Playwright, loads the page while traffic flows through the balancer, sees the counters move
/// without reloading, sees a backend that stops answering health checks go down, and leaves a
/// screenshot in the test output (artifacts/dashboard.png).
/// </summary>
public class DashboardTests
{
    private const string Chromium = "/usr/bin/chromium";
    private static readonly byte[] ToA = Packets.Short(Convert.FromHexString("00414141410102030405060708"));

    [Fact]
    public async Task TheDashboardShowsTrafficLiveAndABackendGoingDown()
    {
        Assert.True(File.Exists(Chromium), "Debian's chromium is needed (scripts/test.sh installs it)");
        using var a = new UdpTestBackend("A");
        using var b = new UdpTestBackend("B");
        await using LoadBalancer balancer = await RunningBalancer.StartAsync(TestSettings.Loopback(
            [(a.Endpoint, "41414141"), (b.Endpoint, "42424242")], ("Admin", "127.0.0.1:0")));
        using var client = new TestClient(balancer.ListenEndpoints[0]);
        Assert.True(await RunningBalancer.EventuallyAsync(() => balancer.GetStatus().Backends.All(x => x.Up)));

        using IPlaywright playwright = await Playwright.CreateAsync();
        await using IBrowser browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = Chromium,
            Headless = true,

            // This machine has no way out: keep chromium from trying (see the environment notes).
            Args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
        });
        IPage page = await browser.NewPageAsync(new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = 1400, Height = 1100 } });
        var problems = new List<string>();
        page.Console += (_, message) =>
        {
            if (message.Type == "error")
            {
                problems.Add(message.Text);
            }
        };
        page.PageError += (_, error) => problems.Add(error);
        await page.GotoAsync($"http://{balancer.AdminEndpoint}/");

        // Both backends listed and up, from the first poll.
        ILocator rows = page.Locator("#backends tbody tr");
        await Assertions.Expect(rows).ToHaveCountAsync(2);
        ILocator stateOfA = page.Locator($"#backends tr[data-key='{a.Endpoint}'] td[data-field='state']");
        ILocator stateOfB = page.Locator($"#backends tr[data-key='{b.Endpoint}'] td[data-field='state']");
        await Assertions.Expect(stateOfA).ToHaveTextAsync("up");
        await Assertions.Expect(stateOfB).ToHaveTextAsync("up");

        // Traffic to A: its packet count and rate rise on the open page.
        ILocator packetsOfA = page.Locator($"#backends tr[data-key='{a.Endpoint}'] td[data-field='packets']");
        long before = FirstNumber(await packetsOfA.TextContentAsync());
        using var traffic = new CancellationTokenSource();
        Task sending = Task.Run(async () =>
        {
            while (!traffic.IsCancellationRequested)
            {
                client.Send(ToA);
                await Task.Delay(5);
            }
        });
        await page.WaitForFunctionAsync(
            "([key, before]) => { const cell = document.querySelector(`#backends tr[data-key='${key}'] td[data-field='packets']`); return cell && parseInt(cell.textContent.replace(/,/g, '')) > before + 50; }",
            new object[] { a.Endpoint.ToString(), before },
            new PageWaitForFunctionOptions { Timeout = 15_000 });
        await Assertions.Expect(page.Locator($"#backends tr[data-key='{a.Endpoint}'] td[data-field='to-rate']")).Not.ToHaveTextAsync("0", new LocatorAssertionsToHaveTextOptions { Timeout = 15_000 });
        await Assertions.Expect(page.Locator("#routing tr[data-key='connection_id'] td[data-field='rate']")).Not.ToHaveTextAsync("0", new LocatorAssertionsToHaveTextOptions { Timeout = 15_000 });

        // B stops answering its health checks: the page shows it down, with the failure.
        b.AnswerProbes = false;
        await Assertions.Expect(stateOfB).ToHaveTextAsync("down", new LocatorAssertionsToHaveTextOptions { Timeout = 15_000 });
        await Assertions.Expect(page.Locator($"#backends tr[data-key='{b.Endpoint}'] td[data-field='last-failure']")).Not.ToHaveTextAsync("—");
        await Assertions.Expect(stateOfA).ToHaveTextAsync("up");

        string artifacts = Path.Combine(AppContext.BaseDirectory, "artifacts");
        Directory.CreateDirectory(artifacts);
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(artifacts, "dashboard.png"), FullPage = true });
        await traffic.CancelAsync();
        await sending;
        Assert.Empty(problems); // no script error, and the page's policy blocked nothing it needs
    }

    [Fact]
    public async Task TheDashboardIsServedWithAPolicyThatAllowsNothingFromElsewhere()
    {
        using var a = new UdpTestBackend("A");
        await using LoadBalancer balancer = await RunningBalancer.StartAsync(TestSettings.Loopback([(a.Endpoint, "41414141")], ("Admin", "127.0.0.1:0")));
        using var http = new HttpClient { BaseAddress = new Uri($"http://{balancer.AdminEndpoint}") };
        using HttpResponseMessage response = await http.GetAsync(new Uri("/", UriKind.Relative));
        response.EnsureSuccessStatusCode();
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        string policy = string.Join(";", response.Headers.GetValues("Content-Security-Policy"));
        Assert.Contains("default-src 'none'", policy, StringComparison.Ordinal);
        Assert.Contains("connect-src 'self'", policy, StringComparison.Ordinal);
        string html = await response.Content.ReadAsStringAsync();
        foreach (string fetchesSomething in (string[])["<script src", "<link", "@import", "url(", "<img", "<iframe"])
        {
            Assert.DoesNotContain(fetchesSomething, html, StringComparison.OrdinalIgnoreCase); // nothing from anywhere but /status
        }
    }

    private static long FirstNumber(string? text) =>
        long.Parse(new string((text ?? "0").TakeWhile(c => char.IsDigit(c) || c == ',').Where(char.IsDigit).ToArray()) is { Length: > 0 } digits ? digits : "0", CultureInfo.InvariantCulture);
}
