// The `spiffworkflow:` namespace as bpmn-moddle types, so the modeler reads and writes jiuzhu's
// extensions as typed elements (properties, message variables, decision ids, scripts).
// Every element of the namespace that jiuzhu's diagrams use must be listed: bpmn-moddle refuses an
// unknown type of a namespace it knows (an import warning, and the element is lost on export).
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
      // A service task's registered operator and its parameters (engine/service_operators.py).
      { name: 'ServiceTaskOperator', superClass: ['Element'],
        properties: [{ name: 'id', type: 'String', isAttr: true }, { name: 'resultVariable', type: 'String', isAttr: true },
                     { name: 'parameters', type: 'Parameters' }] },
      { name: 'Parameters', superClass: ['Element'],
        properties: [{ name: 'parameters', type: 'Parameter', isMany: true }] },
      { name: 'Parameter', superClass: ['Element'],
        properties: [{ name: 'id', type: 'String', isAttr: true }, { name: 'type', type: 'String', isAttr: true },
                     { name: 'value', type: 'String', isAttr: true }] },
      body('MessageVariable'),
      body('CalledDecisionId'),
      body('PreScript'),
      body('PostScript'),
      body('InstructionsForEndUser')
    ]
  };
}());
