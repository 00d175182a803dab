import click


@click.command('scheduler')
@click.option('--interval', type=float, default=None,
              help='Seconds between sweeps (default: JIUZHU_SWEEP_SECONDS or 30).')
@click.option('--once', is_flag=True, help='Sweep once (start missing monthly cases, fire due timers) and exit.')
def scheduler_command(interval, once):
    """Fire due timers and start the monthly calendar cases (several may run against PostgreSQL).

    Runs until SIGTERM or SIGINT; then the running sweep ends after its current case, hands back
    the claims it did not reach, and the command exits with status 0.
    """
    from .. import create_app
    from ..heap import freeze_startup_heap
    from .monthly import start_monthly_cases
    from .runner import run_blocking
    from .sweep import sweep_due
    # Never an embedded scheduler next to the blocking one in the same process.
    app = create_app({'JIUZHU_EMBEDDED_SCHEDULER': False})
    freeze_startup_heap()
    if once:
        started = start_monthly_cases(app)
        fired = sweep_due(app)
        click.echo(f'已启动月度案件 {len(started)} 件，已触发定时器 {fired} 个 (started {len(started)}, fired {fired})')
        return
    if app.extensions['jiuzhu.clock'].manual:
        # A manual clock lives in one process: the web process's clock moves, this one's never does.
        click.echo('警告：手动时钟只在本进程内有效，演示模式请用 `jiuzhu serve --demo` 内置的定时任务 '
                   '(warning: a manual clock cannot be moved from the web process; use the embedded scheduler)',
                   err=True)
    click.echo(f'jiuzhu 定时任务已启动，按 Ctrl+C 或发送 SIGTERM 停止 '
               f'(scheduler started, clock: {app.config["JIUZHU_CLOCK"]})')
    received = run_blocking(app, interval)
    click.echo(f'jiuzhu 定时任务已停止 (scheduler stopped on {received})')
