// categories: the product categories page (#/categories).
import { simpleResource } from './resource.js';
import { qty } from '../format.js';

export const categoriesPage = simpleResource({
  path: '/categories', title: 'nav.categories', k: 'category',
  fields: [{ name: 'name', label: 'category.name', required: true }, { name: 'description', label: 'category.description', type: 'textarea' }],
  columns: [['category.name', (c) => c.name], ['category.description', (c) => c.description || ''], ['category.products', (c) => qty(c.product_count)]],
});
