// The `spiffworkflow:` namespace as bpmn-moddle types, so the modeler reads and writes jiuzhu's
// extensions as typed elements (properties, message variables, decision ids, scripts).
// Elements of the namespace not listed here stay untyped and are written back as they were read.
(function () {
  function body(name) {
    return { name: name, superClass: ['Element'], properties: [{ name: 'value', type: 'String', isBody: true }] };
  }
  window.JiuzhuSpiffModdle = {
    name: 'SpiffWorkflow',
    prefix: 'spiffworkflow',
    uri: 'http://spiffworkflow.org/bpmn/schema/1.0/core',
    xml: { tagAlias: 'lowerCase' },
    associations: [],
    types: [
      { name: 'Properties', superClass: ['Element'],
        properties: [{ name: 'properties', type: 'Property', isMany: true }] },
      { name: 'Property', superClass: ['Element'],
        properties: [{ name: 'name', type: 'String', isAttr: true }, { name: 'value', type: 'String', isAttr: true }] },
      body('MessageVariable'),
      body('CalledDecisionId'),
      body('PreScript'),
      body('PostScript'),
      body('InstructionsForEndUser')
    ]
  };
}());
