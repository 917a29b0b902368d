using System.Diagnostics;
using ILGpuSat.Engine.Modules;
using ILGpuSat.Imaging.Imagery;
using ILGpuSat.Kernels;
using ILGpuSat.Networks;
using ILGpuSat.Tests.Common;
using NUnit.Framework;

namespace ILGpuSat.Packaging.Tests;

/// <summary>
/// What a user of the NuGet packages does: `dotnet pack` every library into a folder feed, write a fresh console
/// project that references ILGpuSat.Inference from that feed (third-party packages from the machine's package cache
/// or nuget.org), enhance a small image with a tiny untrained model and check the output is 4x the input. Slow
/// (pack, restore, build: about a minute), so it is one test; skipped when `dotnet` is not on PATH.
/// </summary>
[TestFixture]
public sealed class PackageConsumerTests
{
    /// <summary>Every packable project, in dependency order.</summary>
    static readonly string[] Packable = ["Kernels", "Engine", "Networks", "Imaging", "Inference"];

    [Test]
    public void FreshConsoleProjectRestoresThePackagesAndEnhancesAnImage()
    {
        var dotnet = FindOnPath("dotnet") ?? FindOnPath("dotnet.exe");
        if (dotnet is null) Assert.Ignore("skipped: `dotnet` is not on PATH, so the packages cannot be packed and consumed.");

        var temp = Directory.CreateTempSubdirectory("ilgpusat-pack-");
        try
        {
            string feed = Path.Combine(temp.FullName, "feed"), app = Path.Combine(temp.FullName, "app");
            string packages = Path.Combine(temp.FullName, "packages");
            Directory.CreateDirectory(app);
            foreach (var project in Packable)
                Run(dotnet, RepositoryPaths.Root, "pack", Path.Combine(project, $"ILGpuSat.{project}.csproj"), "-c", "Release", "-o", feed, "--nologo");
            var version = Path.GetFileNameWithoutExtension(Directory.GetFiles(feed, "ILGpuSat.Inference.*.nupkg").Single())["ILGpuSat.Inference.".Length..];
            Assert.That(Directory.GetFiles(feed, "*.nupkg").Select(Path.GetFileName),
                Is.EquivalentTo(Packable.Select(p => $"ILGpuSat.{p}.{version}.nupkg")), "dotnet pack made exactly the library packages");

            string model = Path.Combine(temp.FullName, "tiny.safetensors"), input = Path.Combine(temp.FullName, "in.png"), output = Path.Combine(temp.FullName, "out.png");
            WriteTinyModel(model);
            WriteInput(input, 24, 20);

            File.WriteAllText(Path.Combine(app, "nuget.config"), NuGetConfig(feed));
            File.WriteAllText(Path.Combine(app, "app.csproj"), $"""
                <Project Sdk="Microsoft.NET.Sdk">
                  <PropertyGroup>
                    <OutputType>Exe</OutputType>
                    <TargetFramework>net10.0</TargetFramework>
                    <ImplicitUsings>enable</ImplicitUsings>
                    <Nullable>enable</Nullable>
                    <RestorePackagesPath>{packages}</RestorePackagesPath>
                  </PropertyGroup>
                  <ItemGroup>
                    <PackageReference Include="ILGpuSat.Inference" Version="{version}" />
                  </ItemGroup>
                </Project>
                """);
            // Directory.Build.* and central package management must not leak in from above the temp folder.
            File.WriteAllText(Path.Combine(temp.FullName, "Directory.Build.props"), "<Project />");
            File.WriteAllText(Path.Combine(temp.FullName, "Directory.Build.targets"), "<Project />");
            File.WriteAllText(Path.Combine(temp.FullName, "Directory.Packages.props"), "<Project />");
            File.WriteAllText(Path.Combine(app, "Program.cs"), """
                using ILGpuSat.Imaging.Imagery;
                using ILGpuSat.Inference;
                using ILGpuSat.Kernels;

                using var backend = Backends.Create("cpu");
                using var enhancer = Enhancer.Load(args[0], backend);
                var result = enhancer.Enhance(ImageReader.Read(args[1]));
                ImageWriter.Write(args[2], result.Color);
                """);
            Run(dotnet, app, "run", "-c", "Release", "--", model, input, output);

            Assert.That(File.Exists(output), $"the console app wrote no {output}");
            var (w, h) = ImageReader.ReadSize(output);
            Assert.That((w, h), Is.EqualTo((4 * 24, 4 * 20)), "the enhanced image is 4x the input");
        }
        finally
        {
            try { temp.Delete(recursive: true); } catch (IOException) { }
        }
    }

    /// <summary>The local feed for ILGpuSat.* only (so a stale package of the same version elsewhere cannot win); the
    /// machine's package cache (a valid folder feed) and nuget.org for the rest.</summary>
    static string NuGetConfig(string feed)
    {
        var cache = Environment.GetEnvironmentVariable("NUGET_PACKAGES")
            ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        bool haveCache = Directory.Exists(cache);
        return $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources>
                <clear />
                <add key="ilgpusat" value="{feed}" />
                {(haveCache ? $"<add key=\"cache\" value=\"{cache}\" />" : "")}
                <add key="nuget.org" value="https://api.nuget.org/v3/index.json" />
              </packageSources>
              <packageSourceMapping>
                <packageSource key="ilgpusat"><package pattern="ILGpuSat.*" /></packageSource>
                {(haveCache ? "<packageSource key=\"cache\"><package pattern=\"*\" /></packageSource>" : "")}
                <packageSource key="nuget.org"><package pattern="*" /></packageSource>
              </packageSourceMapping>
            </configuration>
            """;
    }

    static void WriteTinyModel(string path)
    {
        using var backend = Backends.Create("cpu");
        var config = new Liu2018Config(0.0625, 0.0625);
        using var network = ModelCatalog.Create("liu2018", new LayerFactory(backend, 7), config);
        ModelFile.Save(path, network, "liu2018", config);
    }

    static void WriteInput(string path, int width, int height)
    {
        var grey = new float[width * height];
        for (int y = 0; y < height; y++)
            for (int x = 0; x < width; x++) grey[y * width + x] = (float)(0.5 + 0.4 * Math.Sin(x * 0.7) * Math.Cos(y * 0.45));
        ImageWriter.Write(path, new RasterImage(width, height, [grey]));
    }

    static void Run(string exe, string workingDirectory, params string[] args)
    {
        var psi = new ProcessStartInfo(exe) { WorkingDirectory = workingDirectory, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        psi.Environment["DOTNET_NOLOGO"] = "1";
        using var p = Process.Start(psi) ?? throw new InvalidOperationException($"could not start {exe}");
        var err = p.StandardError.ReadToEndAsync();
        var stdout = p.StandardOutput.ReadToEnd();
        if (!p.WaitForExit(TimeSpan.FromMinutes(5))) { p.Kill(entireProcessTree: true); Assert.Fail($"`dotnet {string.Join(' ', args)}` took over 5 minutes"); }
        if (p.ExitCode != 0)
            Assert.Fail($"`dotnet {string.Join(' ', args)}` in {workingDirectory} exited {p.ExitCode}:\n{Tail(stdout)}\n{Tail(err.Result)}");
    }

    static string Tail(string s) => s.Length <= 4000 ? s : s[^4000..];

    static string? FindOnPath(string name)
        => (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(d => Path.Combine(d, name)).FirstOrDefault(File.Exists);
}
