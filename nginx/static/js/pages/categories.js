// categories: the product categories page (#/categories).
import { simpleResource } from './resource.js';
import { qty } from '../format.js';

export const categoriesPage = simpleResource({
  path: '/categories', title: 'Categories', singular: 'category',
  fields: [{ name: 'name', label: 'Name', required: true }, { name: 'description', label: 'Description', type: 'textarea' }],
  columns: [['Name', (c) => c.name], ['Description', (c) => c.description || ''], ['Products', (c) => qty(c.product_count)]],
});
