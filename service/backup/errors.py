"""The one error a backup or restore stops with: its message is for the operator (Chinese, English)."""


class BackupError(Exception):
    def __init__(self, message):
        super().__init__(message)
        self.message = message


def not_empty(state):
    current = state.current or '无版本记录 (unversioned)'
    return BackupError(f'目标数据库不是空的（结构版本 {current}）：恢复会覆盖其中全部数据。确认要覆盖时加 --force '
                       f'(the target database is not empty (revision {current}): restoring replaces all of its data; '
                       f'add --force to do so)')
