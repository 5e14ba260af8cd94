// units: the units of measure page (#/units).
import { simpleResource } from './resource.js';

export const unitsPage = simpleResource({
  path: '/uom', title: 'Units', singular: 'unit',
  fields: [{ name: 'name', label: 'Name', required: true }, { name: 'abbreviation', label: 'Abbreviation', required: true }],
  columns: [['Name', (u) => u.name], ['Abbreviation', (u) => u.abbreviation]],
});
