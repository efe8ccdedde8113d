"""Plugins add CLI subcommands through register_commands, loaded only on demand."""

import types

import click
from click.testing import CliRunner

import hookchain
from hookchain import cli, plugins


def test_plugin_command_is_added_and_a_failing_one_is_isolated():
    plugins.reset()
    good, bad = types.ModuleType("good"), types.ModuleType("bad")

    @hookchain.hookimpl
    def register_commands(cli):
        @cli.command()
        def hello():
            click.echo("hello from a plugin")

    @hookchain.hookimpl
    def broken(cli):
        raise RuntimeError("no commands today")

    good.register_commands = register_commands
    bad.register_commands = broken
    try:
        plugins.register_plugin(good, name="good")
        plugins.register_plugin(bad, name="bad")
        group = cli._PluginGroup(name="hookchain", commands=dict(cli.main.commands))
        result = CliRunner().invoke(group, ["hello"])
        assert result.exit_code == 0 and result.output == "hello from a plugin\n"
        assert "no commands today" in next(p for p in plugins.list_plugins() if p.name == "bad").error
    finally:
        plugins.reset()
