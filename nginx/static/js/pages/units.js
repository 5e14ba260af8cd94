// units: the units of measure page (#/units).
import { simpleResource } from './resource.js';

export const unitsPage = simpleResource({
  path: '/uom', title: 'nav.units', k: 'unit',
  fields: [{ name: 'name', label: 'unit.name', required: true }, { name: 'abbreviation', label: 'unit.abbreviation', required: true }],
  columns: [['unit.name', (u) => u.name], ['unit.abbreviation', (u) => u.abbreviation]],
});
