// Chinese for what the designer sees of dmn-js's decision table (headers, context menu, editors).
// Cells are Python expressions in jiuzhu (processes/README.md), not FEEL: the labels say so where it matters.
(function () {
  var ZH = {
    'View DRD': '查看决策关系图', 'Hit policy': '命中规则', 'Hit policy:': '命中规则：', 'When': '当', 'And': '且',
    'Then': '则', 'Annotation': '说明', 'Annotations': '说明', 'Decision name': '决策名称', 'Decision name: ': '决策名称：',
    'Add rule': '添加规则行', 'Add rule above': '在上方添加规则行', 'Add rule below': '在下方添加规则行',
    'Remove rule': '删除规则行', 'Copy rule': '复制规则行', 'Cut rule': '剪切规则行', 'Move rule': '移动规则行',
    'Paste rule above': '粘贴到上方', 'Paste rule below': '粘贴到下方',
    'Add input': '添加输入列', 'Add output': '添加输出列', 'Add input column left': '在左侧添加输入列',
    'Add input column right': '在右侧添加输入列', 'Add output column left': '在左侧添加输出列',
    'Add output column right': '在右侧添加输出列', 'Remove input column': '删除输入列', 'Remove output column': '删除输出列',
    'Copy input column': '复制输入列', 'Copy output column': '复制输出列', 'Cut input column': '剪切输入列',
    'Cut output column': '剪切输出列', 'Paste input column left': '粘贴到左侧', 'Paste input column right': '粘贴到右侧',
    'Paste output column left': '粘贴到左侧', 'Paste output column right': '粘贴到右侧',
    'Add cell description': '添加单元格说明', 'Remove cell description': '删除单元格说明',
    'Input': '输入', 'Output': '输出', 'Input label': '输入名称', 'Input label: ': '输入名称：',
    'Input expression': '输入表达式（Python）', 'Input expression: ': '输入表达式：', 'Output label': '输出名称',
    'Output label: ': '输出名称：', 'Output name': '输出变量', 'Output name: ': '输出变量：', 'Input type': '输入类型',
    'Output type': '输出类型', 'Type': '类型', 'Expression': '表达式', 'Enter expression': '输入表达式',
    'Expression language': '表达式语言', 'Change cell expression language': '更改单元格的表达式语言',
    'Input values': '输入可选值', 'Output values': '输出可选值', 'Predefined values': '预设值', 'Add predefined values': '添加预设值',
    'Clear predefined values': '清除预设值', 'Add values': '添加值', 'Values': '值', 'Value': '值', 'No values': '没有值',
    'Edit': '编辑', 'Edit string': '编辑文字', 'Edit number': '编辑数字', 'Edit boolean': '编辑是/否', 'Edit date': '编辑日期',
    'Edit input': '编辑输入', 'Edit output': '编辑输出', 'Resize': '调整宽度', 'Yes': '是', 'No': '否',
    'Boolean value': '是/否', 'String value': '文字', 'Date': '日期', 'Time': '时间', 'Date and time': '日期和时间',
    'Comparison': '比较', 'Range': '范围', 'Equals': '等于', 'Less': '小于', 'Less or equals': '小于等于', 'Greater': '大于',
    'Greater or equals': '大于等于', 'Match one': '匹配其中之一', 'Match none': '都不匹配', 'Include': '包含', 'Exclude': '排除',
    'Set value': '设置值', 'Start value': '起始值', 'End value': '结束值', 'Custom values': '自定义值',
    'Strings must be in double quotes': '文字须加双引号'
  };
  function translate(template, replacements) {
    var text = ZH[template] || template;
    replacements = replacements || {};
    return text.replace(/{([^}]+)}/g, function (_, key) { return replacements[key] !== undefined ? replacements[key] : '{' + key + '}'; });
  }
  window.JiuzhuDmnZh = { module: { translate: ['value', translate] } };
}());
