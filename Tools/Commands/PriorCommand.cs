using System.CommandLine;
using ILGpuSat.Imaging.Color;
using ILGpuSat.Training.Color;
using ILGpuSat.Tools.Cli;
using Spectre.Console;

namespace ILGpuSat.Tools.Commands;

/// <summary>`ilgpusat prior DIR...`: the colour prior of a set of images, fused with ImageNet's, its rebalancing weights and a figure.</summary>
public static class PriorCommand
{
    public static Command Create()
    {
        var inputs = new Argument<string[]>("inputs") { Description = "folders (searched recursively) or image files", Arity = ArgumentArity.OneOrMore };
        var output = new Option<string>("--output", "-o") { Description = "output prefix P: writes P_prior, P_data_prior, P_weights (.npy, .txt) and P_prior.png", DefaultValueFactory = _ => "prior" };
        var mix = new Option<double>("--mix") { Description = "weight of Zhang's ImageNet prior in the fusion (0 = the inputs alone)", DefaultValueFactory = _ => ColorPrior.DefaultImageNetWeight };
        var sigma = new Option<double>("--sigma") { Description = "Gaussian smoothing in ab units", DefaultValueFactory = _ => ColorPrior.DefaultSigma };
        var lambda = new Option<double>("--lambda") { Description = "uniform share in the rebalancing weights", DefaultValueFactory = _ => ColorPrior.DefaultLambda };
        var stride = new Option<int>("--pixel-stride") { Description = "use every n-th pixel in each direction", DefaultValueFactory = _ => 1 };
        var title = new Option<string>("--title") { Description = "figure title of the inputs' prior", DefaultValueFactory = _ => "Satellite" };
        var strict = new Option<bool>("--strict") { Description = "fail on an unreadable image instead of skipping it" };
        var cmd = new Command("prior", "Colour prior of images over the 313 ab bins, fused with ImageNet's, with rebalancing weights and a heat-map figure")
        {
            inputs, output, mix, sigma, lambda, stride, title, strict,
        };
        cmd.SetAction(pr =>
        {
            var options = new PriorBuildOptions
            {
                Sigma = pr.GetValue(sigma), Lambda = pr.GetValue(lambda), PixelStride = pr.GetValue(stride),
                DataTitle = pr.GetValue(title)!, FailOnUnreadable = pr.GetValue(strict),
            };
            return Run(pr.GetValue(inputs)!, pr.GetValue(output)!, pr.GetValue(mix), options);
        });
        return cmd;
    }

    private static int Run(string[] inputs, string prefix, double mix, PriorBuildOptions options)
    {
        foreach (var input in inputs)
            if (!Directory.Exists(input) && !File.Exists(input)) throw new UserError($"prior: input '{input}' does not exist.");
        PriorResult result = null!;
        AnsiConsole.Progress().Start(ctx =>
        {
            var task = ctx.AddTask("images");
            result = PriorBuilder.Run(inputs, prefix, mix, options, p =>
            {
                task.MaxValue = p.Total;
                task.Value = p.Done;
            });
        });
        AnsiConsole.MarkupLine($"{result.Images} images, {result.Pixels:N0} pixels; {result.Skipped} skipped");
        foreach (var f in result.Failures) AnsiConsole.MarkupLine($"  [yellow]skipped[/] {Markup.Escape(f)}");
        foreach (var f in result.Files) AnsiConsole.MarkupLine($"wrote {Markup.Escape(f)}");
        return 0;
    }
}
