"""The deploy preview's plain-language diff: what changes for casework between two versions.

Each change is {kind, element, text}; `text` is Chinese in the words the page shows (task names,
role names), never element ids alone.
"""
from .diagram_facts import decision_rules, form_fields, process_facts

KINDS_ZH = {'userTask': '办理环节', 'manualTask': '办理环节', 'scriptTask': '自动步骤', 'serviceTask': '自动步骤',
            'receiveTask': '等待消息', 'sendTask': '发送消息', 'businessRuleTask': '决策表判断',
            'callActivity': '调用子流程', 'subProcess': '子流程', 'exclusiveGateway': '分支判断',
            'inclusiveGateway': '分支判断', 'parallelGateway': '并行', 'eventBasedGateway': '事件分支',
            'startEvent': '开始', 'endEvent': '结束', 'boundaryEvent': '边界事件',
            'intermediateCatchEvent': '中间事件', 'intermediateThrowEvent': '中间事件', 'task': '环节'}
TASK_KINDS = ('userTask', 'manualTask', 'scriptTask', 'serviceTask', 'receiveTask', 'sendTask',
              'businessRuleTask', 'callActivity', 'subProcess', 'task')
GATEWAYS = ('exclusiveGateway', 'inclusiveGateway', 'eventBasedGateway', 'parallelGateway')


def _q(text):
    return f'「{text}」'


def _change(out, kind, element, text):
    out.append({'kind': kind, 'element': element, 'text': text})


def diff_process(old, new, key, role_of):
    """Changes from `old` to `new`, each {'source', 'lanes', 'dependencies', 'forms'}."""
    a = process_facts(old['source'], key, old['lanes'])
    b = process_facts(new['source'], key, new['lanes'])
    out = []
    names = {**{k: v['name'] for k, v in a['nodes'].items()}, **{k: v['name'] for k, v in b['nodes'].items()}}

    def name(eid):
        return _q(names.get(eid, eid))

    _nodes(a, b, name, role_of, out)
    _timers(a, b, name, out)
    _gateways(a, b, name, out)
    for eid in sorted(set(a['scripts']) | set(b['scripts'])):
        if a['scripts'].get(eid) != b['scripts'].get(eid) and eid[0] in a['nodes'] and eid[0] in b['nodes']:
            what = {'script': '脚本', 'preScript': '办理前脚本', 'postScript': '办理后脚本'}[eid[1]]
            _change(out, 'script', eid[0], f'{name(eid[0])}的{what}有变化')
    for eid in sorted(set(a['messages']) | set(b['messages'])):
        was, now = a['messages'].get(eid), b['messages'].get(eid)
        if was != now and eid in a['nodes'] and eid in b['nodes']:
            _change(out, 'message', eid, f'{name(eid)}的消息：{was or "无"} → {now or "无"}')
        elif was != now:
            _change(out, 'message', eid, f'{"新增" if now else "去掉"}消息{_q(now or was)}（{name(eid)}）')
    _forms(a, b, old['forms'], new['forms'], name, out)
    _dependencies(old['dependencies'], new['dependencies'], out)
    return out


def _nodes(a, b, name, role_of, out):
    for eid, node in b['nodes'].items():
        if eid not in a['nodes']:
            kind = KINDS_ZH.get(node['kind'], node['kind'])
            role = f'，办理人：{role_of(b["lanes"][eid])}' if node['kind'] in ('userTask', 'manualTask') \
                and b['lanes'].get(eid) else ''
            _change(out, 'task_added' if node['kind'] in TASK_KINDS else 'element_added', eid,
                    f'新增{kind}{name(eid)}{role}')
    for eid, node in a['nodes'].items():
        if eid not in b['nodes']:
            _change(out, 'task_removed' if node['kind'] in TASK_KINDS else 'element_removed', eid,
                    f'删除{KINDS_ZH.get(node["kind"], node["kind"])}{name(eid)}')
    for eid in a['nodes'].keys() & b['nodes'].keys():
        was, now = a['nodes'][eid], b['nodes'][eid]
        if was['name'] != now['name']:
            _change(out, 'renamed', eid, f'{_q(was["name"])}改名为{_q(now["name"])}')
        if was['kind'] != now['kind']:
            _change(out, 'kind_changed', eid, f'{name(eid)}由{KINDS_ZH.get(was["kind"], was["kind"])}改为'
                                              f'{KINDS_ZH.get(now["kind"], now["kind"])}')
        if now['kind'] in ('userTask', 'manualTask') and a['lanes'].get(eid) != b['lanes'].get(eid):
            _change(out, 'role_changed', eid, f'{name(eid)}的办理人：{role_of(a["lanes"].get(eid))} → '
                                              f'{role_of(b["lanes"].get(eid))}')


def _timers(a, b, name, out):
    for eid in sorted(set(a['timers']) | set(b['timers'])):
        was, now = a['timers'].get(eid), b['timers'].get(eid)
        if was == now:
            continue
        node = b['nodes'].get(eid) or a['nodes'].get(eid) or {}
        on = f'（{name(node["attached_to"])}上）' if node.get('attached_to') else ''
        if was and now:
            _change(out, 'timer_changed', eid, f'定时器{name(eid)}{on}的时间：{was} → {now}')
        else:
            _change(out, 'timer_changed', eid, f'{"新增" if now else "删除"}定时器{name(eid)}{on}：{now or was}')


def _gateways(a, b, name, out):
    def outgoing(facts, gid):
        return {fid: f for fid, f in facts['flows'].items() if f['source'] == gid}

    for gid in sorted(a['nodes'].keys() & b['nodes'].keys()):
        if b['nodes'][gid]['kind'] not in GATEWAYS:
            continue
        was, now = outgoing(a, gid), outgoing(b, gid)
        for fid in sorted(set(was) | set(now)):
            f_old, f_new = was.get(fid), now.get(fid)
            target = name((f_new or f_old)['target'])
            branch = f'{name(gid)}通往{target}的分支'
            if f_old is None:
                _change(out, 'branch_added', gid, f'{name(gid)}新增分支，通往{target}'
                                                  + (f'，条件：{f_new["condition"]}' if f_new['condition'] else ''))
            elif f_new is None:
                _change(out, 'branch_removed', gid, f'删除{branch}')
            else:
                if f_old['target'] != f_new['target']:
                    _change(out, 'branch_changed', gid, f'{name(gid)}的分支改为通往{target}'
                                                        f'（原为{name(f_old["target"])}）')
                if f_old['condition'] != f_new['condition']:
                    _change(out, 'condition_changed', gid, f'{branch}的条件：{f_old["condition"] or "无"} → '
                                                           f'{f_new["condition"] or "无"}')
        if a['nodes'][gid]['default'] != b['nodes'][gid]['default']:
            target = b['flows'].get(b['nodes'][gid]['default'] or '', {}).get('target')
            _change(out, 'default_changed', gid, f'{name(gid)}的默认分支改为' + (f'通往{name(target)}' if target else '无'))
    for gid, node in b['nodes'].items():      # a new gateway: its conditions are news too
        if node['kind'] in GATEWAYS and gid not in a['nodes']:
            for f in outgoing(b, gid).values():
                if f['condition']:
                    _change(out, 'condition_changed', gid, f'{name(gid)}通往{name(f["target"])}的条件：{f["condition"]}')


def _forms(a, b, old_forms, new_forms, name, out):
    for eid in sorted(a['forms'].keys() & b['forms'].keys()):
        if a['forms'][eid] != b['forms'][eid]:
            _change(out, 'form_changed', eid, f'{name(eid)}的表单：{a["forms"][eid]} → {b["forms"][eid]}')
    if a['start_form'] != b['start_form']:
        _change(out, 'form_changed', None, f'申请表：{a["start_form"] or "无"} → {b["start_form"] or "无"}')
    users = {}
    for eid, form in b['forms'].items():
        users.setdefault(form, []).append(name(eid))
    if b['start_form']:
        users.setdefault(b['start_form'], []).insert(0, '「申请」')
    for form in sorted(set(old_forms) & set(new_forms)):
        if old_forms[form] == new_forms[form]:
            continue
        if form.endswith('.uischema.json'):
            _change(out, 'form_layout', form, f'表单 {form} 的排版有变化')
            continue
        where = f'（{"、".join(users[form])}使用）' if users.get(form) else ''
        was, now = form_fields(old_forms[form]), form_fields(new_forms[form])
        found = False
        for path in sorted(set(now) - set(was)):
            found = True
            _change(out, 'form_field_added', form, f'表单 {form}{where}新增字段{_q(now[path][0])}'
                                                   + ('（必填）' if now[path][1] else ''))
        for path in sorted(set(was) - set(now)):
            found = True
            _change(out, 'form_field_removed', form, f'表单 {form}{where}删除字段{_q(was[path][0])}')
        for path in sorted(set(was) & set(now)):
            if was[path][1] != now[path][1]:
                found = True
                _change(out, 'form_required_changed', form,
                        f'表单 {form}{where}的字段{_q(now[path][0])}改为{"必填" if now[path][1] else "选填"}')
        if not found:
            _change(out, 'form_other', form, f'表单 {form}{where}的标题、选项或校验规则有变化')


def _dependencies(old, new, out):
    for path in sorted(set(old) | set(new)):
        if old.get(path) == new.get(path):
            continue
        if path.endswith('.dmn') and path in old and path in new:
            was, now = decision_rules(old[path]), decision_rules(new[path])
            for decision in sorted(set(was) | set(now)):
                before, after = was.get(decision, {}), now.get(decision, {})
                for rid in after.keys() - before.keys():
                    _change(out, 'decision_rule_added', path, f'决策表{_q(decision)}新增第 {after[rid][0]} 条规则：{after[rid][1]}')
                for rid in before.keys() - after.keys():
                    _change(out, 'decision_rule_removed', path, f'决策表{_q(decision)}删除第 {before[rid][0]} 条规则：'
                                                                f'{before[rid][1]}')
                for rid in sorted(before.keys() & after.keys(), key=lambda r: after[r][0]):
                    if before[rid][1] != after[rid][1]:
                        _change(out, 'decision_rule_changed', path, f'决策表{_q(decision)}第 {after[rid][0]} 条规则：'
                                                                    f'{before[rid][1]} 改为 {after[rid][1]}')
            if was == now:
                _change(out, 'decision_other', path, f'决策表文件 {path} 有变化（规则未变）')
        elif path in old and path in new:
            _change(out, 'called_changed', path, f'调用的流程文件 {path} 有变化')
        else:
            _change(out, 'dependency', path, f'{"新用到" if path in new else "不再用到"}文件 {path}')
