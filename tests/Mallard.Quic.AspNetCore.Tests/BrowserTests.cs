using Microsoft.Playwright;

namespace Mallard.Quic.AspNetCore.Tests;

/// <summary>
/// A real browser: Debian's chromium (headless, driven by Playwright) loads a page and a 3 MB
/// resource over HTTP/3 from the Kestrel apps on Mallard.Quic, through <c>mallard lb</c>. The
/// page reports each resource's <c>nextHopProtocol</c>, which must be h3; a screenshot is kept in
/// the test output (artifacts/http3-page.png).
/// </summary>
public class BrowserTests
{
    private const string Chromium = "/usr/bin/chromium";

    [Fact]
    public async Task ChromiumLoadsAPageOverHttp3ThroughTheBalancer()
    {
        Assert.True(File.Exists(Chromium), "Debian's chromium is needed (scripts/test.sh installs it)");
        await using BalancedApps apps = await BalancedApps.StartAsync();
        string origin = $"127.0.0.1:{apps.Port}";

        using IPlaywright playwright = await Playwright.CreateAsync();
        await using IBrowser browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = Chromium,
            Headless = true,
            Args =
            [
                "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run",
                // HTTP/3 from the first request (no TCP to learn Alt-Svc from: the balancer relays UDP only),
                // trusting the apps' self-signed certificate by its key.
                "--enable-quic", $"--origin-to-force-quic-on={origin}", $"--ignore-certificate-errors-spki-list={Http3TestApp.CertificateSpkiHash}",
            ],
        });
        IPage page = await browser.NewPageAsync(new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = 1000, Height = 400 } });
        IResponse? response = await page.GotoAsync($"https://{origin}/page");
        Assert.NotNull(response);
        Assert.Equal(200, response.Status);

        ILocator result = page.Locator("#result");
        await Assertions.Expect(result).ToContainTextAsync("fetched 3000000 octets", new LocatorAssertionsToContainTextOptions { Timeout = 30_000 });
        string navigation = await page.EvaluateAsync<string>("() => performance.getEntriesByType('navigation')[0].nextHopProtocol");
        string resource = await page.EvaluateAsync<string>("() => performance.getEntriesByType('resource').find(e => e.name.endsWith('/bytes/3000000')).nextHopProtocol");
        Assert.Equal("h3", navigation);
        Assert.Equal("h3", resource);
        Assert.Equal(2, apps.A.Requests + apps.B.Requests); // the page and the resource (the page names no favicon)

        string artifacts = Path.Combine(AppContext.BaseDirectory, "artifacts");
        Directory.CreateDirectory(artifacts);
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(artifacts, "http3-page.png"), FullPage = true });
    }
}
