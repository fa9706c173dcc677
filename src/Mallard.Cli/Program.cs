using Mallard.Cli;

return MallardCommand.Run(args, Console.Out, Console.Error);
